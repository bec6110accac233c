"""The signed-in user's own account: sign-out, sessions, passkeys (``/api/v1/me``).

Every route needs a live session and answers 401 ``unauthenticated`` before it reads a
body; the use cases in :mod:`authsvc.services.sessions` and :mod:`authsvc.services.account`
re-read the session in their own transaction and audit what they change. A session is
shown by its public id (a prefix of its hash), never by the id the cookie holds.

``/me`` carries ``rpId`` and the base64url ``userHandle``, and each credential its
base64url ``credentialId``: exactly what the account page hands the browser's Signal API
(``signalAllAcceptedCredentials`` after a delete, ``signalCurrentUserDetails`` after a
rename), so the credential manager stops offering a deleted passkey. Neither is a secret:
the browser already holds both for every passkey of the account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from flask import Blueprint, Response, jsonify

from authsvc.encoding import b64url_encode
from authsvc.errors import Malformed, NotFound
from authsvc.services import account, profile
from authsvc.services import sessions as server_sessions
from authsvc.services.records import CredentialRecord, SessionRecord
from authsvc.web import openapi
from authsvc.web.admin_calls import path_id
from authsvc.web.api_schemas import (
    ACCOUNT_CREDENTIAL,
    B64URL,
    ID,
    PATH_ID,
    ROLE,
    SESSION,
    SESSION_ID,
    nullable,
    obj,
    text,
)
from authsvc.web.credential_json import credential_json
from authsvc.web.sessions import caller, services, signed_in, signed_out

bp = Blueprint("account", __name__)

_PUBLIC_ID: Final = re.compile(r"[0-9a-f]{16}", re.ASCII)
_MAX_NAME_CHARS: Final = 64  # the credentials.name column
_RENAME: Final = obj({"name": nullable(text(1, _MAX_NAME_CHARS))})
_ME: Final = obj(
    {
        "id": ID,
        "username": {"type": "string"},
        "displayName": {"type": "string"},
        "role": ROLE,
        "rpId": {"type": "string"},
        "userHandle": B64URL,
        "session": SESSION,
    }
)


def _time(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def _session_json(record: SessionRecord, *, current: bool) -> dict[str, Any]:
    idle = services().settings.session_idle_timeout
    return {
        "id": record.public_id,
        "current": current,
        "signedInAt": _time(record.signed_in_at),
        "lastSeenAt": _time(record.last_seen_at),
        "expiresAt": _time(min(record.expires_at, record.last_seen_at + idle)),
        "userVerified": record.user_verified,
        "verifiedAt": _time(record.verified_at),
        "credential": record.credential_pk,
        "recovered": record.recovered,
        "clientAddress": record.client_address,
        "userAgent": record.user_agent,
    }


def _no_content(*, ended_own_session: bool = False) -> Response:
    if ended_own_session:
        signed_out()
    return Response(status=204)


@bp.post("/logout")
@bp.delete("/api/v1/sessions/current")
@openapi.operation(
    summary="Sign out: end the session (or token session) this request uses",
    tag="account",
    access=openapi.SIGNED_IN,
    responses={204: None},
)
def sign_out() -> Response:
    signed_in()
    server_sessions.sign_out(services(), caller())
    return _no_content(ended_own_session=True)


@bp.get("/api/v1/me")
@openapi.operation(
    summary="Who I am, and the session this request uses",
    tag="account",
    access=openapi.SIGNED_IN,
    responses={200: _ME},
)
def me() -> Response:
    user = signed_in()
    return jsonify(
        {
            "id": user.id,
            "username": user.username,
            "displayName": user.display_name,
            "role": user.role,
            "rpId": services().settings.rp_id,
            "userHandle": b64url_encode(profile.user_handle(services(), user.id)),
            "session": _session_json(user.record, current=True),
        }
    )


@bp.get("/api/v1/me/sessions")
@openapi.operation(
    summary="My signed-in sessions",
    tag="account",
    access=openapi.SIGNED_IN,
    responses={200: obj({"sessions": {"type": "array", "items": SESSION}})},
)
def list_sessions() -> Response:
    signed_in()
    current, found = server_sessions.list_own(services(), caller())
    mine = current.record.id_hash
    return jsonify({"sessions": [_session_json(r, current=r.id_hash == mine) for r in found]})


@bp.delete("/api/v1/me/sessions/<public_id>")
@openapi.operation(
    summary="End one of my sessions",
    tag="account",
    access=openapi.SIGNED_IN,
    path={"public_id": SESSION_ID},
    responses={204: None},
    errors=("not_found",),
)
def end_session(public_id: str) -> Response:
    signed_in()
    if not _PUBLIC_ID.fullmatch(public_id):
        raise NotFound("no such session")
    ended_own = server_sessions.revoke_own(services(), caller(), public_id)
    return _no_content(ended_own_session=ended_own)


@bp.delete("/api/v1/me/sessions")
@openapi.operation(
    summary="Sign out everywhere: end all my sessions and token sessions",
    tag="account",
    access=openapi.SIGNED_IN,
    responses={204: None},
)
def end_all_sessions() -> Response:
    signed_in()
    server_sessions.revoke_all_own(services(), caller())
    return _no_content(ended_own_session=True)


def _credential_json(cred: CredentialRecord, signed_in_with: int | None) -> dict[str, Any]:
    return {
        **credential_json(cred),
        "name": cred.name,
        "signedInThisSession": cred.id == signed_in_with,
    }


@bp.get("/api/v1/me/credentials")
@openapi.operation(
    summary="My passkeys",
    tag="account",
    access=openapi.SIGNED_IN,
    responses={200: obj({"credentials": {"type": "array", "items": ACCOUNT_CREDENTIAL}})},
)
def list_credentials() -> Response:
    user = signed_in()
    found = account.own_credentials(services(), caller())
    return jsonify({"credentials": [_credential_json(c, user.record.credential_pk) for c in found]})


def _name(body: Mapping[str, Any]) -> str | None:
    if set(body) != {"name"}:
        raise Malformed('the body must be {"name": <1-64 printable characters, or null>}')
    name = body["name"]
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME_CHARS:
        raise Malformed("name must be 1-64 characters, or null")
    if not name.isprintable():
        raise Malformed("name must not contain control or formatting characters")
    return name.strip()


@bp.patch("/api/v1/me/credentials/<pk>")
@openapi.operation(
    summary="Name one of my passkeys (null: no name)",
    tag="account",
    access=openapi.SIGNED_IN,
    path={"pk": PATH_ID},
    body=_RENAME,
    responses={200: obj({"id": ID, "name": nullable({"type": "string"})})},
    errors=("not_found", "step_up_required"),
)
def rename_credential(pk: str) -> Response:
    signed_in()
    row = path_id(pk, "credential")
    name = _name(openapi.body())
    account.rename_credential(services(), caller(), row, name)
    return jsonify({"id": row, "name": name})


@bp.delete("/api/v1/me/credentials/<pk>")
@openapi.operation(
    summary="Delete one of my passkeys (needs a fresh user-verified sign-in)",
    tag="account",
    access=openapi.SIGNED_IN,
    path={"pk": PATH_ID},
    responses={204: None},
    errors=("not_found", "step_up_required", "conflict"),
)
def delete_credential(pk: str) -> Response:
    signed_in()
    ended_own = account.delete_credential(services(), caller(), path_id(pk, "credential"))
    return _no_content(ended_own_session=ended_own)
