"""The ``/api/v1`` ceremonies: the same use cases as the web, without cookies, ending in tokens.

An app asks for options and gets ``{"ceremonyId", "publicKey"}``: ``publicKey`` is the
WebAuthn JSON (``PublicKeyCredentialCreationOptionsJSON`` or ``…RequestOptionsJSON``)
that Android's Credential Manager takes as it is and that maps onto iOS's
AuthenticationServices requests. The ``ceremonyId`` (256 random bits) is the only handle on
the ceremony's state (:func:`~authsvc.ceremony.state.api_binding`): the result sends it
back with the credential. The state is single-use, expires like the web's, and lives in the
same store.

Verification, policy, limits, enumeration resistance and audit are those of the four
conformance endpoints (:mod:`authsvc.web.conformance`); only the outcome differs: a sign-in
(or a sign-up by registration token) starts a token session
(:func:`~authsvc.services.outcomes.token_session`), bound to the key of a DPoP proof when
the request carries one. The proof is checked before the ceremony's state is consumed, so a
``use_dpop_nonce`` retry does not burn the challenge.

Who may register a passkey: a signed-in user (cookie session or access token) with a fresh
step-up, for their own account; or the holder of a one-time registration token
(:mod:`authsvc.services.registration_tokens`), for the token's account.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from authsvc.ceremony.responses import assertion_response, registration_response
from authsvc.ceremony.state import CeremonyKind, api_binding, ceremony_id, new_api_ceremony_id
from authsvc.services import registration_tokens
from authsvc.services.authentication import begin_authentication, finish_authentication
from authsvc.services.context import Caller
from authsvc.services.enrolment import AccountHolder, CookieHolder, NoHolder, RecordHolder
from authsvc.services.outcomes import token_session
from authsvc.services.registration import (
    begin_registration,
    finish_registration,
    stored_credential,
)
from authsvc.web import limits, openapi, schemas
from authsvc.web.api_schemas import ACCOUNT_CREDENTIAL, B64URL, Schema, obj
from authsvc.web.credential_json import credential_json
from authsvc.web.sessions import (
    SessionUser,
    bound_caller,
    cookie_binding,
    services,
    signed_in,
)
from authsvc.web.tokens import dpop_at_sign_in, is_token_request

bp = Blueprint("api_ceremonies", __name__)

_TAG: Final = "ceremonies"
#: who may call: anyone for a sign-in; a signed-in user or a registration token to register
_ANY_CREDENTIALS: Final = openapi.Access(("session", "bearer", "DPoP"))

# -- request schemas: checked before the handlers run, and published ---------------------

_CEREMONY_ID: Final = {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"}
_CLIENT_ID: Final = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,159}$"}
_USER_VERIFICATION: Final = {"enum": ["required", "preferred", "discouraged"]}
_EXTENSIONS: Final = {"type": "object", "maxProperties": schemas.MAX_EXTENSIONS}
_DISPLAY_NAME: Final = {"type": "string", "maxLength": schemas.MAX_NAME_CHARS}
_REGISTRATION_OPTIONS: Final = obj(
    {
        "displayName": _DISPLAY_NAME,
        "authenticatorSelection": obj(
            {
                "authenticatorAttachment": {"enum": ["platform", "cross-platform"]},
                "residentKey": {"enum": ["required", "preferred", "discouraged"]},
                "requireResidentKey": {"type": "boolean"},
                "userVerification": _USER_VERIFICATION,
            },
            required=(),
        ),
        "attestation": {"enum": ["none", "indirect", "direct", "enterprise"]},
        "extensions": _EXTENSIONS,
        "clientId": _CLIENT_ID,
        "registrationToken": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"},
    },
    required=(),
)
_SIGN_IN_OPTIONS: Final = obj(
    {
        "username": {"type": "string", "maxLength": 256},
        "userVerification": _USER_VERIFICATION,
        "extensions": _EXTENSIONS,
        "clientId": _CLIENT_ID,
    },
    required=(),
)
_BINARY: Final = {**B64URL, "maxLength": 65536}
#: RegistrationResponseJSON: open objects, since browsers' and platforms' toJSON() add
#: members (publicKey, authenticatorData, …) that the parser ignores
_REGISTRATION_CREDENTIAL: Final = {
    "type": "object",
    "required": ["id", "rawId", "type", "response"],
    "properties": {
        "id": _BINARY,
        "rawId": _BINARY,
        "type": {"const": "public-key"},
        "response": {
            "type": "object",
            "required": ["clientDataJSON", "attestationObject"],
            "properties": {
                "clientDataJSON": _BINARY,
                "attestationObject": _BINARY,
                "transports": {"type": "array", "items": {"type": "string"}},
            },
        },
        "authenticatorAttachment": {"type": ["string", "null"]},
        "clientExtensionResults": {"type": "object"},
    },
}
_ASSERTION_CREDENTIAL: Final = {
    "type": "object",
    "required": ["id", "rawId", "type", "response"],
    "properties": {
        "id": _BINARY,
        "rawId": _BINARY,
        "type": {"const": "public-key"},
        "response": {
            "type": "object",
            "required": ["clientDataJSON", "authenticatorData", "signature"],
            "properties": {
                "clientDataJSON": _BINARY,
                "authenticatorData": _BINARY,
                "signature": _BINARY,
                "userHandle": {"anyOf": [_BINARY, {"type": "null"}]},
            },
        },
        "authenticatorAttachment": {"type": ["string", "null"]},
        "clientExtensionResults": {"type": "object"},
    },
}

# -- response schemas ----------------------------------------------------------------------

_CREATION_OPTIONS: Final = obj(
    {
        "ceremonyId": _CEREMONY_ID,
        "publicKey": {
            "type": "object",
            "required": ["rp", "user", "challenge", "pubKeyCredParams"],
            "description": "PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3)",
        },
    }
)
_REQUEST_OPTIONS: Final = obj(
    {
        "ceremonyId": _CEREMONY_ID,
        "publicKey": {
            "type": "object",
            "required": ["challenge", "rpId"],
            "description": "PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3)",
        },
    }
)
_TOKEN_MEMBERS: Final[Mapping[str, Schema]] = {
    "access_token": {"type": "string"},
    "token_type": {"enum": ["Bearer", "DPoP"]},
    "expires_in": {"type": "integer", "minimum": 0},
    "refresh_token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"},
}
_TOKEN_RESPONSE: Final = obj(_TOKEN_MEMBERS)
_REGISTERED: Final = obj(
    {"credential": ACCOUNT_CREDENTIAL, **_TOKEN_MEMBERS}, required=("credential",)
)
_CEREMONY_ERRORS: Final = (
    "challenge_unknown",
    "challenge_expired",
    "challenge_mismatch",
    "type_mismatch",
    "origin_mismatch",
    "rp_id_mismatch",
    "user_not_present",
    "user_not_verified",
    "backup_state_invalid",
    "policy_denied",
    "rate_limited",
    "dpop_invalid",
    "dpop_nonce_required",
)


def _holder(user: SessionUser | None) -> AccountHolder:
    """Who this request says is adding a passkey: its cookie session, its token, or nobody.

    A cookie session is re-read in the ceremony's transaction; a token session as its
    access token's check found it in this request.
    """
    if user is None:
        return NoHolder()
    binding = cookie_binding()
    return CookieHolder(binding) if binding is not None else RecordHolder(user.record)


def _current() -> SessionUser | None:
    if not current_user.is_authenticated:
        return None
    user: SessionUser = current_user._get_current_object()
    return user


def _sign_in_proof() -> str | None:
    """The DPoP key a token session started here is bound to, checked before the ceremony.

    A request signed in by an access token has its proof checked for that token (with
    ``ath``) by the sign-in itself; a second check would only find its ``jti`` spent.
    """
    return None if is_token_request(request) else dpop_at_sign_in()


def _no_store(body: Mapping[str, Any], status: int = 200) -> Response:
    """RFC 6749 §5.1: a response with tokens is never cached."""
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _returning(body: Mapping[str, Any], kind: CeremonyKind) -> tuple[Caller, str]:
    """The caller a result's ``ceremonyId`` binds, and the id its pending state is under."""
    who = bound_caller(api_binding(body["ceremonyId"]))
    return who, ceremony_id(kind, who.binding)


@bp.post("/api/v1/registrations/options")
@openapi.operation(
    summary="Options to register a passkey (signed in with step-up, or a registration token)",
    tag=_TAG,
    access=_ANY_CREDENTIALS,
    description="Without registrationToken the caller must be signed in (cookie or access "
    "token) with a fresh user-verified sign-in; the passkey is for their own account. With "
    "one, it is for the token's account. `publicKey` goes to Credential Manager's "
    "CreatePublicKeyCredentialRequest as it is.",
    body=_REGISTRATION_OPTIONS,
    responses={200: _CREATION_OPTIONS},
    errors=("unauthenticated", "step_up_required", "conflict", "policy_denied", "rate_limited"),
)
def registration_options() -> Response:
    body = openapi.body()
    svc = services()
    token = body.get("registrationToken")
    holder: AccountHolder
    if isinstance(token, str):
        found = registration_tokens.holder(svc, token)
        holder, username, display_name = found, found.username, found.display_name
    else:
        user = signed_in()
        holder, username, display_name = _holder(user), user.username, user.display_name
    req = schemas.registration_request(
        {
            "username": username,
            "displayName": body.get("displayName") or display_name,
            "authenticatorSelection": body.get("authenticatorSelection"),
            "attestation": body.get("attestation"),
            "extensions": body.get("extensions"),
        }
    )
    limits.registration_options(req.username)
    new_id = new_api_ceremony_id()
    req = dataclasses.replace(req, client_id=body.get("clientId"))
    _, options = begin_registration(svc, req, bound_caller(api_binding(new_id)), holder)
    return jsonify({"ceremonyId": new_id, "publicKey": options})


@bp.post("/api/v1/registrations")
@openapi.operation(
    summary="Register the passkey: the new credential, and tokens for a registration token",
    tag=_TAG,
    access=_ANY_CREDENTIALS,
    description="A registration token's ceremony redeems the token and signs in: the "
    "response then also carries the RFC 6749 §5.1 members (DPoP-bound with a DPoP proof).",
    body=obj({"ceremonyId": _CEREMONY_ID, "credential": _REGISTRATION_CREDENTIAL}),
    responses={201: _REGISTERED},
    errors=(
        *_CEREMONY_ERRORS,
        "unauthenticated",
        "step_up_required",
        "conflict",
        "unsupported_algorithm",
        "attestation_invalid",
        "attestation_untrusted",
        "credential_excluded",
    ),
)
def registration_result() -> Response:
    body = openapi.body()
    response = registration_response(body["credential"])
    jkt = _sign_in_proof()
    svc = services()
    who, pending = _returning(body, CeremonyKind.REGISTRATION)
    registered = finish_registration(
        svc,
        response,
        pending,
        who,
        holder=_holder(_current()),
        outcome=token_session(svc, jkt),
    )
    record = stored_credential(svc, registered.credential.credential_id)
    shown = {
        **credential_json(record),
        "name": record.name,
        "signedInThisSession": registered.session is not None,
    }
    tokens = registered.session.to_json() if registered.session is not None else {}
    return _no_store({"credential": shown, **tokens}, 201)


@bp.post("/api/v1/sessions/options")
@openapi.operation(
    summary="Options to sign in with a passkey (no username: a discoverable sign-in)",
    tag=_TAG,
    description="An unknown username is answered like a known one. `publicKey` goes to "
    "Credential Manager's GetPublicKeyCredentialOption as it is.",
    body=_SIGN_IN_OPTIONS,
    responses={200: _REQUEST_OPTIONS},
    errors=("rate_limited",),
)
def sign_in_options() -> Response:
    body = openapi.body()
    req = schemas.assertion_request({k: v for k, v in body.items() if k != "clientId"})
    limits.sign_in_options(req.username)
    new_id = new_api_ceremony_id()
    req = dataclasses.replace(req, client_id=body.get("clientId"))
    _, options = begin_authentication(services(), req, bound_caller(api_binding(new_id)))
    return jsonify({"ceremonyId": new_id, "publicKey": options})


@bp.post("/api/v1/sessions")
@openapi.operation(
    summary="Sign in with the passkey's assertion: an RFC 6749 §5.1 token response",
    tag=_TAG,
    description="With a DPoP header (RFC 9449) the tokens are bound to its key; the proof "
    "is checked before the ceremony, so a use_dpop_nonce retry keeps the ceremony usable.",
    body=obj({"ceremonyId": _CEREMONY_ID, "credential": _ASSERTION_CREDENTIAL}),
    responses={200: _TOKEN_RESPONSE},
    errors=(
        *_CEREMONY_ERRORS,
        "credential_unknown",
        "user_handle_mismatch",
        "signature_invalid",
        "sign_count_regressed",
    ),
)
def sign_in() -> Response:
    body = openapi.body()
    response = assertion_response(body["credential"])
    jkt = dpop_at_sign_in()
    svc = services()
    who, pending = _returning(body, CeremonyKind.AUTHENTICATION)
    with limits.credential_attempt(response.credential_id):
        signed = finish_authentication(
            svc,
            response,
            pending,
            who,
            outcome=token_session(svc, jkt),
        )
    return _no_store(signed.session.to_json())
