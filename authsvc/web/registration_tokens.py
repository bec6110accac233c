"""Issuing registration tokens over HTTP: by an admin, or by an app's back end.

``POST /api/v1/admin/registration-tokens`` is an admin call like the others
(:func:`~authsvc.web.admin_calls.admin_route`: authorised, then parsed, audited, step-up).
``POST /api/v1/registration-tokens`` is for an app's back end, which authenticates as its
app client with HTTP Basic (RFC 6749 §2.3.1: the form-urlencoded client id and secret,
joined by ``:``, in base64); a refusal is 401 with ``WWW-Authenticate: Basic``. Both take
``{"username", "displayName"}`` and answer the token once (``Cache-Control: no-store``).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote_plus

from flask import Blueprint, Response, jsonify, request

from authsvc.errors import Unauthenticated
from authsvc.services import registration_tokens
from authsvc.services.admin import Actor
from authsvc.services.registration_tokens import IssuedToken
from authsvc.web import openapi, schemas
from authsvc.web.admin_calls import admin_route
from authsvc.web.api_schemas import TIME, obj, text
from authsvc.web.problems import problem_response
from authsvc.web.sessions import bound_caller, services

bp = Blueprint("registration_tokens", __name__)
admin_bp = Blueprint("admin_registration_tokens", __name__, url_prefix="/api/v1/admin")

PATH: Final = "/api/v1/registration-tokens"
_MAX_BASIC_CHARS: Final = 1024
_BASIC_CHALLENGE: Final = 'Basic realm="authsvc", charset="UTF-8"'
_REQUEST: Final = obj(
    {"username": text(1, 64), "displayName": {"type": "string", "maxLength": 64}},
    required=("username",),
)
_ISSUED: Final = obj(
    {
        "registrationToken": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"},
        "expiresAt": TIME,
        "expiresIn": {"type": "integer", "minimum": 0},
        "username": {"type": "string"},
        "created": {"type": "boolean"},
    }
)


def _account(body: Any) -> tuple[str, str]:
    """The RFC 8265 username and display name, checked as ``/attestation/options`` checks them."""
    checked = schemas.registration_request(
        {"username": body.get("username"), "displayName": body.get("displayName")}
    )
    return checked.username, checked.display_name


def _issued(issued: IssuedToken) -> Response:
    now = services().clock()
    response = jsonify(
        {
            "registrationToken": issued.token,
            "expiresAt": datetime.fromtimestamp(issued.expires_at, UTC).isoformat(),
            "expiresIn": max(0, int(issued.expires_at - now)),
            "username": issued.username,
            "created": issued.created,
        }
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


def _parse(body: Any) -> tuple[str, str]:
    return _account(body)


@admin_route(
    admin_bp,
    "POST",
    "/registration-tokens",
    "registration_token.issued",
    _parse,
    summary="Issue a one-time registration token (a new username's account is made now)",
    body=_REQUEST,
    responses={201: _ISSUED},
    errors=("conflict",),
)
def issue_by_admin(actor: Actor, account: tuple[str, str]) -> Response:
    username, display_name = account
    return _issued(
        registration_tokens.issue_by_admin(
            services(), actor, username=username, display_name=display_name
        )
    )


def _basic() -> tuple[str, str]:
    """The client id and secret of an ``Authorization: Basic`` header (RFC 6749 §2.3.1)."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded or len(encoded) > _MAX_BASIC_CHARS:
        raise Unauthenticated("authenticate as the app client with HTTP Basic")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthenticated("the Basic credentials are not base64 of UTF-8 text") from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise Unauthenticated("the Basic credentials must be client_id:client_secret")
    return unquote_plus(client_id), unquote_plus(secret)


@bp.post(PATH)
@openapi.operation(
    summary="An app back end's one-time registration token (HTTP Basic as the app client)",
    tag="registration-tokens",
    description="Authorization: Basic base64(client_id:client_secret), the app client's "
    "back-end secret (RFC 6749 §2.3.1). Not for an admin's account. Audited as "
    "registration_token.issued, naming the app.",
    body=_REQUEST,
    responses={201: _ISSUED},
    errors=("unauthenticated", "conflict", "forbidden", "rate_limited"),
)
def issue_by_backend() -> Response:
    try:
        client_id, secret = _basic()
        username, display_name = _account(openapi.body())
        issued = registration_tokens.issue_by_backend(
            services(),
            bound_caller("app-backend"),
            client_id=client_id,
            secret=secret,
            username=username,
            display_name=display_name,
        )
    except Unauthenticated as exc:
        refused = problem_response(exc)
        refused.headers["WWW-Authenticate"] = _BASIC_CHALLENGE
        return refused
    return _issued(issued)
