"""``/api/v1/admin``: users, groups, policies, credentials, the audit log, metadata status.

Each handler only translates. :func:`~authsvc.web.admin_calls.admin_route` authorises the
caller before anything of the request is read, then runs the route's parse function (path,
query, body to typed values; every refusal audited); the use case in
:mod:`authsvc.services.admin` authorises again, runs and audits the call in one
transaction. The signed-in web session is the admin's identity; its server-side record's
last user-verified assertion is what step-up checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify
from sqlalchemy import Connection

from authsvc.audit.chain import query as audit_query
from authsvc.audit.chain import verify_chain
from authsvc.encoding import b64url_encode
from authsvc.errors import Malformed, NotFound
from authsvc.services import admin
from authsvc.services.admin import Actor
from authsvc.storage import accounts
from authsvc.storage import policies as policy_store
from authsvc.storage.records import CredentialRecord
from authsvc.web.admin_calls import (
    MAX_ID,
    admin_route,
    choice,
    integer,
    moment,
    name,
    optional_id,
    path_id,
)
from authsvc.web.credential_json import credential_json
from authsvc.web.sessions import services

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")

_MAX_PAGE = 500
_MAX_SEQ = 2**62
_EVENT = re.compile(r"[a-z._]{1,64}", re.ASCII)
T = TypeVar("T")


def _nothing() -> None:
    """The parse function of a route that takes no input."""


def _read(actor: Actor, action: str, fn: Callable[[Connection], T]) -> T:
    """Run a read-only admin call: authorised and audited like every other."""
    return admin.run_admin(services(), actor, action, lambda conn, _: fn(conn))


def _page(after: str | None, limit: str | None) -> tuple[int, int]:
    return (
        integer(after, "after", default=0, low=0, high=MAX_ID),
        integer(limit, "limit", default=100, low=1, high=_MAX_PAGE),
    )


def _credential_json(cred: CredentialRecord) -> dict[str, Any]:
    return {
        **credential_json(cred),
        "user": cred.user_id,
        "username": cred.username,
        "fmt": cred.fmt,
        "attestationType": cred.attestation_type,
        "trust": cred.trust,
        "algorithm": cred.algorithm,
        "flaggedAt": cred.flagged_at.isoformat() if cred.flagged_at else None,
    }


@admin_route(bp, "GET", "/users", "user.list", _page)
def list_users(actor: Actor, page: tuple[int, int]) -> Response:
    after, limit = page
    found = _read(actor, "user.list", lambda c: accounts.list_users(c, after_id=after, limit=limit))
    return jsonify(
        {
            "users": [
                {
                    "id": u.id,
                    "username": u.username,
                    "displayName": u.display_name,
                    "role": u.role,
                    "status": u.status,
                    "group": u.group,
                    "credentials": u.credentials,
                    "createdAt": u.created_at.isoformat(),
                }
                for u in found
            ]
        }
    )


def _group_change(user_id: str, body: Mapping[str, Any]) -> tuple[int, str]:
    return path_id(user_id, "user"), name(body["group"], "group")


@admin_route(
    bp,
    "PUT",
    "/users/<user_id>/group",
    "user.group",
    _group_change,
    members={"group"},
    required={"group"},
)
def set_group(actor: Actor, change: tuple[int, str]) -> Response:
    user_id, group = change
    admin.set_membership(services(), actor, user_id, group)
    return jsonify({"user": user_id, "group": group})


def _role_change(user_id: str, body: Mapping[str, Any]) -> tuple[int, str]:
    return path_id(user_id, "user"), choice(body["role"], "role", accounts.ROLES)


@admin_route(
    bp,
    "PUT",
    "/users/<user_id>/role",
    "user.role",
    _role_change,
    members={"role"},
    required={"role"},
)
def set_role(actor: Actor, change: tuple[int, str]) -> Response:
    user_id, role = change
    admin.set_role(services(), actor, user_id, role)
    return jsonify({"user": user_id, "role": role})


@admin_route(bp, "GET", "/groups", "group.list", _nothing)
def list_groups(actor: Actor, _: None) -> Response:
    found = _read(actor, "group.list", policy_store.list_groups)
    return jsonify({"groups": [_group_json(g) for g in found]})


def _new_group(body: Mapping[str, Any]) -> tuple[str, str]:
    return name(body["name"], "name"), name(body["policy"], "policy")


@admin_route(
    bp,
    "POST",
    "/groups",
    "group.create",
    _new_group,
    members={"name", "policy"},
    required={"name", "policy"},
)
def create_group(actor: Actor, new: tuple[str, str]) -> Response:
    group = admin.create_group(services(), actor, *new)
    return _with_status(jsonify(_group_json(group)), 201)


def _assignment(group: str, body: Mapping[str, Any]) -> tuple[str, str]:
    return name(group, "group"), name(body["policy"], "policy")


@admin_route(
    bp,
    "PUT",
    "/groups/<group>/policy",
    "group.assign_policy",
    _assignment,
    members={"policy"},
    required={"policy"},
)
def assign_policy(actor: Actor, assignment: tuple[str, str]) -> Response:
    group = admin.assign_policy(services(), actor, *assignment)
    return jsonify(_group_json(group))


def _group_json(group: policy_store.GroupRow) -> dict[str, Any]:
    return {
        "name": group.name,
        "policy": group.policy_name,
        "policyVersion": group.policy_version,
        "members": group.members,
    }


def _with_status(response: Response, status: int) -> Response:
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


@admin_route(bp, "GET", "/policies", "policy.list", _nothing)
def list_policies(actor: Actor, _: None) -> Response:
    found = _read(actor, "policy.list", policy_store.list_current_policies)
    return jsonify({"policies": [_policy_json(p) for p in found]})


def _policy_name(policy: str) -> str:
    return name(policy, "policy")


def _versions(conn: Connection, policy: str) -> list[policy_store.PolicyRow]:
    found = policy_store.policy_versions(conn, policy)
    if not found:
        raise NotFound("no policy with this name")
    return found


@admin_route(bp, "GET", "/policies/<policy>", "policy.get", _policy_name)
def policy_versions(actor: Actor, policy: str) -> Response:
    found = _read(actor, "policy.get", lambda c: _versions(c, policy))
    return jsonify({"name": policy, "versions": [_policy_json(p) for p in found]})


def _new_policy(body: Mapping[str, Any]) -> tuple[str, object]:
    return name(body["name"], "name"), body["document"]


@admin_route(
    bp,
    "POST",
    "/policies",
    "policy.create",
    _new_policy,
    members={"name", "document"},
    required={"name", "document"},
)
def create_policy(actor: Actor, new: tuple[str, object]) -> Response:
    row = admin.create_policy(services(), actor, *new)
    return _with_status(jsonify(_policy_json(row)), 201)


def _draft(policy: str, body: Mapping[str, Any]) -> tuple[str, object]:
    return name(policy, "policy"), body.get("document")


@admin_route(
    bp,
    "POST",
    "/policies/<policy>/versions",
    "policy.version",
    _draft,
    members={"document"},
    required={"document"},
)
def add_policy_version(actor: Actor, draft: tuple[str, object]) -> Response:
    row = admin.add_policy_version(services(), actor, *draft)
    return _with_status(jsonify(_policy_json(row)), 201)


@admin_route(
    bp, "POST", "/policies/<policy>/dry-run", "policy.dry_run", _draft, members={"document"}
)
def dry_run(actor: Actor, draft: tuple[str, object]) -> Response:
    return jsonify(admin.dry_run(services(), actor, *draft))


def _credential_query(
    user: str | None, after: str | None, limit: str | None
) -> tuple[int | None, int, int]:
    return (optional_id(user, "user"), *_page(after, limit))


@admin_route(bp, "GET", "/credentials", "credential.list", _credential_query)
def list_credentials(actor: Actor, query: tuple[int | None, int, int]) -> Response:
    user, after, limit = query
    found = _read(
        actor,
        "credential.list",
        lambda c: accounts.list_credentials(c, user_id=user, after_id=after, limit=limit),
    )
    return jsonify({"credentials": [_credential_json(c) for c in found]})


def _status_change(pk: str, body: Mapping[str, Any]) -> tuple[int, str]:
    return path_id(pk, "credential"), choice(body["status"], "status", accounts.CREDENTIAL_STATUSES)


@admin_route(
    bp,
    "PUT",
    "/credentials/<pk>/status",
    "credential.status",
    _status_change,
    members={"status"},
    required={"status"},
)
def set_credential_status(actor: Actor, change: tuple[int, str]) -> Response:
    pk, status = change
    admin.set_credential_status(services(), actor, pk, status)
    return jsonify({"id": pk, "status": status})


def _credential_pk(pk: str) -> int:
    return path_id(pk, "credential")


@admin_route(bp, "DELETE", "/credentials/<pk>", "credential.delete", _credential_pk)
def delete_credential(actor: Actor, pk: int) -> Response:
    admin.delete_credential(services(), actor, pk)
    return Response(status=204)


@dataclass(frozen=True, slots=True)
class _AuditQuery:
    user: int | None
    event: str | None
    since: datetime | None
    until: datetime | None
    before: int | None
    limit: int


def _audit_query(
    *,
    user: str | None,
    event: str | None,
    since: str | None,
    until: str | None,
    before: str | None,
    limit: str | None,
) -> _AuditQuery:
    if event is not None and not _EVENT.fullmatch(event):
        raise Malformed("event must be an event name such as authentication or admin.user.role")
    return _AuditQuery(
        user=optional_id(user, "user"),
        event=event,
        since=moment(since, "since"),
        until=moment(until, "until"),
        before=integer(before, "before", default=0, low=0, high=_MAX_SEQ) or None,
        limit=integer(limit, "limit", default=100, low=1, high=_MAX_PAGE),
    )


@admin_route(bp, "GET", "/audit", "audit.query", _audit_query)
def audit_log(actor: Actor, q: _AuditQuery) -> Response:
    events = _read(
        actor,
        "audit.query",
        lambda c: audit_query(
            c,
            user_id=q.user,
            event=q.event,
            since=q.since,
            until=q.until,
            limit=q.limit,
            before_seq=q.before,
        ),
    )
    return jsonify({"events": [_jsonable(e) for e in events]})


@admin_route(bp, "GET", "/audit/verify", "audit.verify", _nothing)
def audit_verify(actor: Actor, _: None) -> Response:
    report = _read(actor, "audit.verify", verify_chain)
    return jsonify(
        {
            "ok": report.ok,
            "events": report.events,
            "firstBadSeq": report.first_bad_seq,
            "firstBadId": report.first_bad_id,
            "reason": report.reason,
        }
    )


@admin_route(bp, "GET", "/metadata", "metadata.status", _nothing)
def metadata_status(actor: Actor, _: None) -> Response:
    status = _read(actor, "metadata.status", lambda _: services().metadata.status())
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
