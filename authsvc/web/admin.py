"""``/api/v1/admin``: users, groups, policies, credentials, the audit log, metadata status.

Each handler only translates: the JSON body is checked here (unknown members refused,
types and sizes checked), the use case in :mod:`authsvc.services.admin` authorises, runs
and audits it. The signed-in web session is the admin's identity; its ``uv_at`` (set by a
user-verified sign-in) is what step-up checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fido2.webauthn import Aaguid
from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from authsvc.audit.chain import query as audit_query
from authsvc.audit.chain import verify_chain
from authsvc.encoding import b64url_encode
from authsvc.errors import Malformed, NotFound
from authsvc.services import admin
from authsvc.services.admin import Actor
from authsvc.storage import accounts
from authsvc.storage import policies as policy_store
from authsvc.storage.records import CredentialRecord
from authsvc.web import schemas
from authsvc.web.sessions import caller, services, verified_at

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_MAX_PAGE = 500
_MAX_ID = 2**31 - 1  # ids are 32-bit integers; a larger one cannot exist


def _actor() -> Actor:
    if not current_user.is_authenticated:
        return Actor(None, None, None, caller())
    return Actor(int(current_user.get_id()), current_user.role, verified_at(), caller())


def _body(*, allowed: frozenset[str], required: frozenset[str] = frozenset()) -> Mapping[str, Any]:
    body = schemas.json_body(request)
    unknown = set(body) - allowed
    if unknown:
        raise Malformed(f"unknown members: {', '.join(sorted(unknown))}")
    missing = required - set(body)
    if missing:
        raise Malformed(f"missing members: {', '.join(sorted(missing))}")
    return body


def _name(value: object, field: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise Malformed(f"{field} must be 1-64 of a-z, 0-9, '.', '_', '-' (starting alphanumeric)")
    return value


def _int_arg(name: str, default: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= high:
        raise Malformed(f"{name} must be a whole number from 0 to {high}")
    return int(raw)


def _optional_id(name: str) -> int | None:
    raw = request.args.get(name)
    return None if raw is None else _int_arg(name, 0, _MAX_ID)


def _time_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Malformed(f"{name} must be an ISO 8601 time with a zone") from exc
    if moment.tzinfo is None:
        raise Malformed(f"{name} must be an ISO 8601 time with a zone")
    return moment


def _credential_json(cred: CredentialRecord) -> dict[str, Any]:
    svc = services()
    aaguid = str(Aaguid(cred.aaguid))
    described = svc.metadata.describe(aaguid, cred.attestation_key_id)
    return {
        "id": cred.id,
        "credentialId": b64url_encode(cred.credential_id),
        "user": cred.user_id,
        "username": cred.username,
        "authenticator": described.description if described else None,
        "authenticatorIcon": described.icon if described else None,
        "aaguid": aaguid,
        "aaguidProven": cred.aaguid_proven,
        "fmt": cred.fmt,
        "attestationType": cred.attestation_type,
        "trust": cred.trust,
        "algorithm": cred.algorithm,
        "backupEligible": cred.backup_eligible,
        "backedUp": cred.backed_up,
        "attachment": cred.attachment,
        "transports": list(cred.transports),
        "status": cred.status,
        "flaggedAt": cred.flagged_at.isoformat() if cred.flagged_at else None,
        "createdAt": cred.created_at.isoformat(),
        "lastUsedAt": cred.last_used_at.isoformat() if cred.last_used_at else None,
    }


def _read(action: str, fn: Any) -> Any:
    """Run a read-only admin call: authorised and audited like every other."""
    return admin.run_admin(services(), _actor(), action, lambda conn, _: fn(conn))


@bp.get("/users")
def list_users() -> Response:
    after, limit = _int_arg("after", 0, _MAX_ID), _int_arg("limit", 100, _MAX_PAGE)
    found = _read("user.list", lambda c: accounts.list_users(c, after_id=after, limit=limit))
    return jsonify(
        {
            "users": [
                {
                    "id": u.id,
                    "username": u.username,
                    "displayName": u.display_name,
                    "role": u.role,
                    "group": u.group,
                    "credentials": u.credentials,
                    "createdAt": u.created_at.isoformat(),
                }
                for u in found
            ]
        }
    )


@bp.put("/users/<int(min=1, max=2147483647):user_id>/group")
def set_group(user_id: int) -> Response:
    body = _body(allowed=frozenset({"group"}), required=frozenset({"group"}))
    admin.set_membership(services(), _actor(), user_id, _name(body["group"], "group"))
    return jsonify({"user": user_id, "group": body["group"]})


@bp.put("/users/<int(min=1, max=2147483647):user_id>/role")
def set_role(user_id: int) -> Response:
    body = _body(allowed=frozenset({"role"}), required=frozenset({"role"}))
    if not isinstance(body["role"], str):
        raise Malformed("role must be a string")
    admin.set_role(services(), _actor(), user_id, body["role"])
    return jsonify({"user": user_id, "role": body["role"]})


@bp.get("/groups")
def list_groups() -> Response:
    found = _read("group.list", policy_store.list_groups)
    return jsonify(
        {
            "groups": [
                {
                    "name": g.name,
                    "policy": g.policy_name,
                    "policyVersion": g.policy_version,
                    "members": g.members,
                }
                for g in found
            ]
        }
    )


@bp.post("/groups")
def create_group() -> Response:
    body = _body(allowed=frozenset({"name", "policy"}), required=frozenset({"name", "policy"}))
    group = admin.create_group(
        services(), _actor(), _name(body["name"], "name"), _name(body["policy"], "policy")
    )
    return _group_response(group, 201)


@bp.put("/groups/<name>/policy")
def assign_policy(name: str) -> Response:
    body = _body(allowed=frozenset({"policy"}), required=frozenset({"policy"}))
    group = admin.assign_policy(
        services(), _actor(), _name(name, "group"), _name(body["policy"], "policy")
    )
    return _group_response(group, 200)


def _group_response(group: policy_store.GroupRow, status: int) -> Response:
    response = jsonify(
        {
            "name": group.name,
            "policy": group.policy_name,
            "policyVersion": group.policy_version,
            "members": group.members,
        }
    )
    response.status_code = status
    return response


def _policy_json(row: policy_store.PolicyRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "version": row.version,
        "document": row.document,
        "createdAt": row.created_at.isoformat(),
        "createdBy": row.created_by,
    }


@bp.get("/policies")
def list_policies() -> Response:
    found = _read("policy.list", policy_store.list_current_policies)
    return jsonify({"policies": [_policy_json(p) for p in found]})


@bp.get("/policies/<name>")
def policy_versions(name: str) -> Response:
    found = _read("policy.get", lambda c: policy_store.policy_versions(c, _name(name, "policy")))
    if not found:
        raise NotFound("no policy with this name")
    return jsonify({"name": name, "versions": [_policy_json(p) for p in found]})


@bp.post("/policies")
def create_policy() -> Response:
    body = _body(allowed=frozenset({"name", "document"}), required=frozenset({"name", "document"}))
    row = admin.create_policy(services(), _actor(), _name(body["name"], "name"), body["document"])
    response = jsonify(_policy_json(row))
    response.status_code = 201
    return response


@bp.post("/policies/<name>/versions")
def add_policy_version(name: str) -> Response:
    body = _body(allowed=frozenset({"document"}), required=frozenset({"document"}))
    row = admin.add_policy_version(services(), _actor(), _name(name, "policy"), body["document"])
    response = jsonify(_policy_json(row))
    response.status_code = 201
    return response


@bp.post("/policies/<name>/dry-run")
def dry_run(name: str) -> Response:
    body = _body(allowed=frozenset({"document"}))
    return jsonify(admin.dry_run(services(), _actor(), _name(name, "policy"), body.get("document")))


@bp.get("/credentials")
def list_credentials() -> Response:
    user = _optional_id("user")
    after, limit = _int_arg("after", 0, _MAX_ID), _int_arg("limit", 100, _MAX_PAGE)
    found = _read(
        "credential.list",
        lambda c: accounts.list_credentials(c, user_id=user, after_id=after, limit=limit),
    )
    return jsonify({"credentials": [_credential_json(c) for c in found]})


@bp.put("/credentials/<int(min=1, max=2147483647):pk>/status")
def set_credential_status(pk: int) -> Response:
    body = _body(allowed=frozenset({"status"}), required=frozenset({"status"}))
    if not isinstance(body["status"], str):
        raise Malformed("status must be a string")
    admin.set_credential_status(services(), _actor(), pk, body["status"])
    return jsonify({"id": pk, "status": body["status"]})


@bp.delete("/credentials/<int(min=1, max=2147483647):pk>")
def delete_credential(pk: int) -> Response:
    admin.delete_credential(services(), _actor(), pk)
    return Response(status=204)


@bp.get("/audit")
def audit_log() -> Response:
    user = _optional_id("user")
    event = request.args.get("event")
    if event is not None and not re.fullmatch(r"[a-z._]{1,64}", event):
        raise Malformed("event must be an event name such as authentication or admin.user.role")
    since, until = _time_arg("since"), _time_arg("until")
    before, limit = _int_arg("before", 0, 2**62), _int_arg("limit", 100, _MAX_PAGE)  # seq
    events = _read(
        "audit.query",
        lambda c: audit_query(
            c,
            user_id=user,
            event=event,
            since=since,
            until=until,
            limit=limit,
            before_seq=before or None,
        ),
    )
    return jsonify({"events": [_jsonable(e) for e in events]})


@bp.get("/audit/verify")
def audit_verify() -> Response:
    report = _read("audit.verify", verify_chain)
    return jsonify(
        {
            "ok": report.ok,
            "events": report.events,
            "firstBadSeq": report.first_bad_seq,
            "firstBadId": report.first_bad_id,
            "reason": report.reason,
        }
    )


@bp.get("/metadata")
def metadata_status() -> Response:
    status = _read("metadata.status", lambda _: services().metadata.status())
    return jsonify(
        {
            "source": status.source,
            "no": status.no,
            "nextUpdate": status.next_update,
            "entries": status.entries,
            "loadSeconds": status.load_seconds,
            "stale": status.stale,
            "lastRefusal": status.last_refusal,
        }
    )


def _jsonable(event: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, bytes):
            out[key] = b64url_encode(value) if key == "credential_id" else value.hex()
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out
