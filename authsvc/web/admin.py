"""``/api/v1/admin``: users, groups, policies, credentials, the audit log, metadata status.

Each handler only translates. :func:`~authsvc.web.admin_calls.admin_route` authorises the
caller before anything of the request is read, then runs the route's parse function (path,
query, body to typed values; every refusal audited); the use case in
:mod:`authsvc.services.admin` authorises again, runs and audits the call in one
transaction. The signed-in web session is the admin's identity; its server-side record's
last user-verified assertion is what step-up checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify

from authsvc.services import admin, admin_reads
from authsvc.services.admin import Actor
from authsvc.services.records import (
    CREDENTIAL_STATUSES,
    ROLES,
    CredentialRecord,
    GroupRow,
    PolicyRow,
)
from authsvc.web.admin_calls import (
    MAX_ID,
    admin_route,
    choice,
    integer,
    name,
    no_input,
    optional_id,
    path_id,
)
from authsvc.web.api_schemas import (
    ADMIN_CREDENTIAL,
    DRY_RUN,
    GROUP,
    ID,
    MAX_PAGE,
    NAME,
    PAGE_QUERY,
    PATH_ID,
    POLICY_DOCUMENT,
    POLICY_VERSION,
    ROLE,
    USER,
    obj,
)
from authsvc.web.credential_json import credential_json
from authsvc.web.sessions import services

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")


def _page(after: str | None, limit: str | None) -> tuple[int, int]:
    return (
        integer(after, "after", default=0, low=0, high=MAX_ID),
        integer(limit, "limit", default=100, low=1, high=MAX_PAGE),
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


@admin_route(
    bp,
    "GET",
    "/users",
    "user.list",
    _page,
    summary="List users, by id, after the id given",
    query=PAGE_QUERY,
    responses={200: obj({"users": {"type": "array", "items": USER}})},
)
def list_users(actor: Actor, page: tuple[int, int]) -> Response:
    after, limit = page
    found = admin_reads.list_users(services(), actor, after_id=after, limit=limit)
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
    summary="Move a user to a group",
    path={"user_id": PATH_ID},
    body=obj({"group": NAME}),
    responses={200: obj({"user": ID, "group": NAME})},
    errors=("not_found",),
)
def set_group(actor: Actor, change: tuple[int, str]) -> Response:
    user_id, group = change
    admin.set_membership(services(), actor, user_id, group)
    return jsonify({"user": user_id, "group": group})


def _role_change(user_id: str, body: Mapping[str, Any]) -> tuple[int, str]:
    return path_id(user_id, "user"), choice(body["role"], "role", ROLES)


@admin_route(
    bp,
    "PUT",
    "/users/<user_id>/role",
    "user.role",
    _role_change,
    summary="Give a user the admin or the user role",
    path={"user_id": PATH_ID},
    body=obj({"role": ROLE}),
    responses={200: obj({"user": ID, "role": ROLE})},
    errors=("not_found", "conflict"),
)
def set_role(actor: Actor, change: tuple[int, str]) -> Response:
    user_id, role = change
    admin.set_role(services(), actor, user_id, role)
    return jsonify({"user": user_id, "role": role})


@admin_route(
    bp,
    "GET",
    "/groups",
    "group.list",
    no_input,
    summary="List groups and their policies",
    responses={200: obj({"groups": {"type": "array", "items": GROUP}})},
)
def list_groups(actor: Actor, _: None) -> Response:
    found = admin_reads.list_groups(services(), actor)
    return jsonify({"groups": [_group_json(g) for g in found]})


def _new_group(body: Mapping[str, Any]) -> tuple[str, str]:
    return name(body["name"], "name"), name(body["policy"], "policy")


@admin_route(
    bp,
    "POST",
    "/groups",
    "group.create",
    _new_group,
    summary="Create a group following a policy",
    body=obj({"name": NAME, "policy": NAME}),
    responses={201: GROUP},
    errors=("not_found", "conflict"),
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
    summary="Make a group follow another policy",
    path={"group": NAME},
    body=obj({"policy": NAME}),
    responses={200: GROUP},
    errors=("not_found",),
)
def assign_policy(actor: Actor, assignment: tuple[str, str]) -> Response:
    group = admin.assign_policy(services(), actor, *assignment)
    return jsonify(_group_json(group))


def _group_json(group: GroupRow) -> dict[str, Any]:
    return {
        "name": group.name,
        "policy": group.policy_name,
        "policyVersion": group.policy_version,
        "members": group.members,
    }


def _with_status(response: Response, status: int) -> Response:
    response.status_code = status
    return response


def _policy_json(row: PolicyRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "version": row.version,
        "document": row.document,
        "createdAt": row.created_at.isoformat(),
        "createdBy": row.created_by,
    }


@admin_route(
    bp,
    "GET",
    "/policies",
    "policy.list",
    no_input,
    summary="List the current version of every policy",
    responses={200: obj({"policies": {"type": "array", "items": POLICY_VERSION}})},
)
def list_policies(actor: Actor, _: None) -> Response:
    found = admin_reads.list_policies(services(), actor)
    return jsonify({"policies": [_policy_json(p) for p in found]})


def _policy_name(policy: str) -> str:
    return name(policy, "policy")


@admin_route(
    bp,
    "GET",
    "/policies/<policy>",
    "policy.get",
    _policy_name,
    summary="Every version of one policy",
    path={"policy": NAME},
    responses={200: obj({"name": NAME, "versions": {"type": "array", "items": POLICY_VERSION}})},
    errors=("not_found",),
)
def policy_versions(actor: Actor, policy: str) -> Response:
    found = admin_reads.policy_versions(services(), actor, policy)
    return jsonify({"name": policy, "versions": [_policy_json(p) for p in found]})


def _new_policy(body: Mapping[str, Any]) -> tuple[str, object]:
    return name(body["name"], "name"), body["document"]


@admin_route(
    bp,
    "POST",
    "/policies",
    "policy.create",
    _new_policy,
    summary="Create a policy (version 1)",
    body=obj({"name": NAME, "document": POLICY_DOCUMENT}),
    responses={201: POLICY_VERSION},
    errors=("conflict",),
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
    summary="Add a new version of a policy",
    path={"policy": NAME},
    body=obj({"document": POLICY_DOCUMENT}),
    responses={201: POLICY_VERSION},
    errors=("not_found",),
)
def add_policy_version(actor: Actor, draft: tuple[str, object]) -> Response:
    row = admin.add_policy_version(services(), actor, *draft)
    return _with_status(jsonify(_policy_json(row)), 201)


@admin_route(
    bp,
    "POST",
    "/policies/<policy>/dry-run",
    "policy.dry_run",
    _draft,
    summary="Which stored credentials a policy (or a draft of it) would refuse",
    path={"policy": NAME},
    body=obj({"document": POLICY_DOCUMENT}, required=()),
    responses={200: DRY_RUN},
    errors=("not_found",),
)
def dry_run(actor: Actor, draft: tuple[str, object]) -> Response:
    return jsonify(admin.dry_run(services(), actor, *draft))


def _credential_query(
    user: str | None, after: str | None, limit: str | None
) -> tuple[int | None, int, int]:
    return (optional_id(user, "user"), *_page(after, limit))


@admin_route(
    bp,
    "GET",
    "/credentials",
    "credential.list",
    _credential_query,
    summary="List credentials, by id, optionally of one user",
    query={"user": {"type": "integer", "minimum": 0, "maximum": MAX_ID}, **PAGE_QUERY},
    responses={200: obj({"credentials": {"type": "array", "items": ADMIN_CREDENTIAL}})},
)
def list_credentials(actor: Actor, query: tuple[int | None, int, int]) -> Response:
    user, after, limit = query
    found = admin_reads.list_credentials(
        services(), actor, user_id=user, after_id=after, limit=limit
    )
    return jsonify({"credentials": [_credential_json(c) for c in found]})


def _status_change(pk: str, body: Mapping[str, Any]) -> tuple[int, str]:
    return path_id(pk, "credential"), choice(body["status"], "status", CREDENTIAL_STATUSES)


@admin_route(
    bp,
    "PUT",
    "/credentials/<pk>/status",
    "credential.status",
    _status_change,
    summary="Disable, lock or re-activate a credential",
    path={"pk": PATH_ID},
    body=obj({"status": {"enum": sorted(CREDENTIAL_STATUSES)}}),
    responses={200: obj({"id": ID, "status": {"enum": sorted(CREDENTIAL_STATUSES)}})},
    errors=("not_found",),
)
def set_credential_status(actor: Actor, change: tuple[int, str]) -> Response:
    pk, status = change
    admin.set_credential_status(services(), actor, pk, status)
    return jsonify({"id": pk, "status": status})


def _credential_pk(pk: str) -> int:
    return path_id(pk, "credential")


@admin_route(
    bp,
    "DELETE",
    "/credentials/<pk>",
    "credential.delete",
    _credential_pk,
    summary="Delete a credential (its sessions end)",
    path={"pk": PATH_ID},
    responses={204: None},
    errors=("not_found",),
)
def delete_credential(actor: Actor, pk: int) -> Response:
    admin.delete_credential(services(), actor, pk)
    return Response(status=204)
