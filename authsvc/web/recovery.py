"""Account recovery at the HTTP edge: codes on ``/api/v1/me``, uses without a session, links.

The two uses (``/api/v1/recovery/code`` and ``…/link``) need no session, so they are
counted by the ``recovery`` rate limits before anything is looked up, and their refusals
are one uniform ``unauthenticated`` problem (see :mod:`authsvc.services.recovery`). A
success signs this cookie session in as a *recovered* session, under a new id, exactly as
a ceremony's sign-in does. The admin route is made by
:func:`~authsvc.web.admin_calls.admin_route`: authorised and audited before it is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from flask import Blueprint, Response, jsonify

from authsvc.errors import Malformed
from authsvc.services import recovery
from authsvc.services.admin import Actor
from authsvc.services.sessions import OpenedSession
from authsvc.web import limits, openapi
from authsvc.web.admin_calls import admin_route, path_id
from authsvc.web.api_schemas import ID, PATH_ID, TIME, nullable, obj, text
from authsvc.web.sessions import caller, services, sign_in, signed_in, user_agent

bp = Blueprint("recovery", __name__)
admin_bp = Blueprint("admin_recovery", __name__, url_prefix="/api/v1/admin")

#: generous for a typed code (``ABCDE-FGHIJ`` with spaces) and a 43-character token, small
#: enough that nothing large is hashed or audited
_MAX_SECRET_CHARS: Final = 64
_MAX_USERNAME_CHARS: Final = 64
_COUNT: Final = {"type": "integer", "minimum": 0}
_SIGNED_IN: Final = obj({"status": {"const": "ok"}, "recovered": {"const": True}})


def _text(body: Mapping[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise Malformed(f"{name} must be a string of 1 to {limit} characters")
    return value


def _signed_in(opened: OpenedSession) -> Response:
    sign_in(opened)
    return jsonify({"status": "ok", "recovered": True})


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@bp.get("/api/v1/me/recovery-codes")
@openapi.operation(
    summary="How many recovery codes I have left",
    tag="recovery",
    access=openapi.SIGNED_IN,
    responses={
        200: obj(
            {"remaining": _COUNT, "generatedAt": nullable(TIME), "allowed": {"type": "boolean"}}
        )
    },
)
def code_status() -> Response:
    signed_in()
    status = recovery.code_status(services(), caller())
    return jsonify(
        {
            "remaining": status.remaining,
            "generatedAt": _time(status.generated_at),
            "allowed": status.allowed,
        }
    )


@bp.post("/api/v1/me/recovery-codes")
@openapi.operation(
    summary="Make a new set of recovery codes (the old set stops working)",
    tag="recovery",
    access=openapi.SIGNED_IN,
    responses={
        201: obj(
            {
                "codes": {"type": "array", "items": {"type": "string"}},
                "remaining": _COUNT,
                "generatedAt": TIME,
            }
        )
    },
    errors=("step_up_required", "policy_denied"),
)
def generate_codes() -> tuple[Response, int]:
    signed_in()
    made = recovery.generate_codes(services(), caller())
    body = {
        "codes": made.codes,
        "remaining": len(made.codes),
        "generatedAt": _time(made.generated_at),
    }
    return jsonify(body), 201


@bp.post("/api/v1/recovery/code")
@openapi.operation(
    summary="Sign in with a recovery code (a recovered session)",
    tag="recovery",
    body=obj({"username": text(1, _MAX_USERNAME_CHARS), "code": text(1, _MAX_SECRET_CHARS)}),
    responses={200: _SIGNED_IN},
    errors=("unauthenticated", "rate_limited", "policy_denied"),
)
def use_code() -> Response:
    body = openapi.body()
    username = _text(body, "username", _MAX_USERNAME_CHARS)
    code = _text(body, "code", _MAX_SECRET_CHARS)
    limits.recovery_attempt(username)
    opened = recovery.use_code(
        services(), caller(), username=username, code=code, user_agent=user_agent()
    )
    return _signed_in(opened)


@bp.post("/api/v1/recovery/link")
@openapi.operation(
    summary="Sign in with a recovery link's token (a recovered session)",
    tag="recovery",
    body=obj({"token": text(1, _MAX_SECRET_CHARS)}),
    responses={200: _SIGNED_IN},
    errors=("unauthenticated", "rate_limited", "policy_denied"),
)
def use_link() -> Response:
    body = openapi.body()
    token = _text(body, "token", _MAX_SECRET_CHARS)
    limits.recovery_attempt(None)
    opened = recovery.use_link(services(), caller(), token=token, user_agent=user_agent())
    return _signed_in(opened)


def _user(user_id: str) -> int:
    return path_id(user_id, "user")


@admin_route(
    admin_bp,
    "POST",
    "/users/<user_id>/recovery-link",
    "recovery.link_issued",
    _user,
    summary="Issue a one-time recovery link for a user",
    path={"user_id": PATH_ID},
    responses={201: obj({"user": ID, "url": {"type": "string"}, "expiresAt": TIME})},
    errors=("not_found", "conflict", "policy_denied"),
)
def issue_link(actor: Actor, user_id: int) -> tuple[Response, int]:
    issued = recovery.issue_link(services(), actor, user_id)
    expires = datetime.fromtimestamp(issued.expires_at, UTC).isoformat()
    return jsonify({"user": user_id, "url": issued.url, "expiresAt": expires}), 201
