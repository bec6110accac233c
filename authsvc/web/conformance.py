"""The four ceremony endpoints, in the FIDO2 server conformance API shape.

State is bound to the cookie session that asked for the options: its pending ceremony of
each kind is found from the session's binding alone, and the same session vouches for a
passkey added to its account. Each handler only translates: JSON in, typed request to a
use case, JSON out. A successful sign-in or sign-up sends the session's new (rotated) id;
``/api/v1`` runs the same use cases with a token session as the outcome
(:mod:`authsvc.web.api_ceremonies`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from authsvc.ceremony.responses import assertion_response, registration_response
from authsvc.ceremony.state import CeremonyKind
from authsvc.services.authentication import begin_authentication, finish_authentication
from authsvc.services.enrolment import CookieHolder
from authsvc.services.outcomes import cookie_session
from authsvc.services.registration import begin_registration, finish_registration
from authsvc.web import limits, schemas
from authsvc.web.sessions import caller, pending_ceremony, services, sign_in, user_agent

bp = Blueprint("conformance", __name__)


def _ok(extra: dict[str, Any] | None = None) -> Response:
    return jsonify({"status": "ok", "errorMessage": "", **(extra or {})})


@bp.post("/attestation/options")
def attestation_options() -> Response:
    req = schemas.registration_request(schemas.json_body(request))
    limits.registration_options(req.username)
    who = caller()
    _, options = begin_registration(services(), req, who, CookieHolder(who.binding))
    return _ok(options)


@bp.post("/attestation/result")
def attestation_result() -> Response:
    response = registration_response(schemas.json_body(request))
    who = caller()
    svc = services()
    registered = finish_registration(
        svc,
        response,
        pending_ceremony(CeremonyKind.REGISTRATION, who),
        who,
        holder=CookieHolder(who.binding),
        outcome=cookie_session(svc, who, user_agent()),
    )
    if registered.session is not None:  # a sign-up signs the new account in
        sign_in(registered.session)
    return _ok()


@bp.post("/assertion/options")
def assertion_options() -> Response:
    req = schemas.assertion_request(schemas.json_body(request))
    limits.sign_in_options(req.username)
    _, options = begin_authentication(services(), req, caller())
    return _ok(options)


@bp.post("/assertion/result")
def assertion_result() -> Response:
    response = assertion_response(schemas.json_body(request))
    who = caller()
    svc = services()
    with limits.credential_attempt(response.credential_id):
        signed_in = finish_authentication(
            svc,
            response,
            pending_ceremony(CeremonyKind.AUTHENTICATION, who),
            who,
            outcome=cookie_session(svc, who, user_agent()),
        )
    sign_in(signed_in.session)
    return _ok()
