"""The OAuth-shaped endpoints of token sessions: the token endpoint and the JWKS.

``POST /oauth/token`` (and ``POST /api/v1/sessions/refresh``, the same handler) is RFC
6749 §6's refresh: a form body (``application/x-www-form-urlencoded``) with
``grant_type=refresh_token`` and the ``refresh_token``, answered with the §5.1 body, or
with our problem+json carrying also §5.2's ``error`` member (and RFC 9449's for DPoP), so
AppAuth-style libraries understand the refusal. A form post needs no exception from the
cross-site guard: it refuses other sites' pages by ``Origin`` and Fetch Metadata as for
every POST, and an app sends neither; and the endpoint reads no cookie, so a forged
request could carry nothing but a refresh token its sender already has.

``GET /.well-known/jwks.json`` publishes the public signing keys (RFC 7517 §5), cached a
minute (:data:`authsvc.web.guards.SHORT_LIVED_DOCUMENTS`).
"""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, Response, current_app, jsonify, request

from authsvc import errors
from authsvc.services import tokens
from authsvc.services.context import Services
from authsvc.web import openapi
from authsvc.web.api_schemas import obj, text
from authsvc.web.problems import problem_response
from authsvc.web.tokens import dpop_at_sign_in, token_caller

bp = Blueprint("oauth", __name__)

GRANT_TYPE: Final = "refresh_token"
#: RFC 6749 §5.2 / RFC 9449 §5 ``error`` of each refusal at the token endpoint
_OAUTH_ERRORS: Final[dict[type[errors.AuthError], str]] = {
    errors.TokenInvalid: "invalid_grant",
    errors.DpopInvalid: "invalid_dpop_proof",
    errors.DpopNonceRequired: "use_dpop_nonce",
}
_TOKEN_ENDPOINTS: Final = frozenset({"oauth.token"})


class UnsupportedGrantType(errors.Malformed):
    """Any grant but ``refresh_token``: the request parses, the grant is not offered here."""


def _services() -> Services:
    svc: Services = current_app.extensions["authsvc"]
    return svc


#: RFC 6749 §3.2: unknown parameters are ignored, so the form is open; each a short string
_FORM: Final = {
    "type": "object",
    "properties": {
        "grant_type": text(1, 64),
        "refresh_token": text(1, 512),
        "client_id": text(1, 255),
        "scope": text(0, 255),
    },
    "required": ["grant_type"],
    "additionalProperties": {"type": "string", "maxLength": 2048},
}
_TOKEN_RESPONSE: Final = obj(
    {
        "access_token": {"type": "string"},
        "token_type": {"enum": [tokens.BEARER, tokens.DPOP]},
        "expires_in": {"type": "integer", "minimum": 1},
        "refresh_token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"},
    }
)
_JWK: Final = obj(
    {
        "kty": {"const": "EC"},
        "crv": {"const": "P-256"},
        "x": {"type": "string"},
        "y": {"type": "string"},
        "kid": {"type": "string"},
        "alg": {"const": "ES256"},
        "use": {"const": "sig"},
    }
)
_JWKS: Final = obj({"keys": {"type": "array", "items": _JWK}})


@bp.errorhandler(errors.AuthError)
def _oauth_problem(error: errors.AuthError) -> Response:
    """Our problem+json, plus the OAuth ``error`` member at the token endpoint."""
    if request.endpoint not in _TOKEN_ENDPOINTS:
        return problem_response(error)
    if isinstance(error, UnsupportedGrantType):
        code = "unsupported_grant_type"
    else:
        code = next(
            (name for cls, name in _OAUTH_ERRORS.items() if isinstance(error, cls)),
            "invalid_request",
        )
    return problem_response(error, {"error": code})


@bp.post("/oauth/token")
@bp.post("/api/v1/sessions/refresh", endpoint="token")
@openapi.operation(
    summary="Refresh a token session (RFC 6749 §6): a new access and refresh token",
    tag="tokens",
    description=(
        "Spends the refresh token and answers the session's next pair. A token presented "
        "again after it was spent ends the whole token session (RFC 9700 §4.14.2). A "
        "DPoP-bound session needs a DPoP proof by its key (RFC 9449), with the server's "
        "nonce (`DPoP-Nonce` on every response). Refusals carry the RFC 6749 §5.2 `error`."
    ),
    body=_FORM,
    media_type=openapi.FORM,
    responses={200: _TOKEN_RESPONSE},
    errors=("token_invalid", "dpop_invalid", "dpop_nonce_required"),
)
def token() -> Response:
    form: dict[str, Any] = dict(openapi.body())
    if form["grant_type"] != GRANT_TYPE:
        raise UnsupportedGrantType("grant_type must be refresh_token")
    refresh_token = form.get("refresh_token")
    if not refresh_token:
        raise errors.Malformed("refresh_token is required")
    grant = tokens.refresh(
        _services(),
        token_caller(None),
        refresh_token=refresh_token,
        proof_jkt=dpop_at_sign_in(),  # the sign-in's proof check: no access token yet
        client_id=form.get("client_id"),
    )
    response = jsonify(grant.to_json())
    response.headers["Pragma"] = "no-cache"  # RFC 6749 §5.1, beside Cache-Control: no-store
    return response


@bp.get("/.well-known/jwks.json")
@openapi.operation(
    summary="The public keys that sign access tokens (RFC 7517 JWK Set)",
    tag="tokens",
    description=(
        "Every key a valid access token may name: the active one and, after a rotation, the "
        "retired one until its tokens have expired. Cached for 60 s; re-fetch on an "
        "unknown `kid`."
    ),
    responses={200: _JWKS},
)
def jwks() -> Response:
    svc = _services()
    return jsonify({"keys": [k.public_jwk() for k in svc.tokens.keys.published(svc.clock())]})
