"""The four ceremony endpoints, in the FIDO2 server conformance API shape.

State is bound to the cookie session that asked for the options. Each handler only
translates: JSON in, typed request to a use case, JSON out.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from authsvc.ceremony.responses import assertion_response, registration_response
from authsvc.services.authentication import begin_authentication, finish_authentication
from authsvc.services.registration import begin_registration, finish_registration
from authsvc.web import schemas
from authsvc.web.sessions import caller, remember_ceremony, services, sign_in, take_ceremony

bp = Blueprint("conformance", __name__)

_REGISTRATION, _AUTHENTICATION = "reg", "auth"


def _ok(extra: dict[str, Any] | None = None) -> Response:
    return jsonify({"status": "ok", "errorMessage": "", **(extra or {})})


def _signed_in_id() -> int | None:
    return int(current_user.get_id()) if current_user.is_authenticated else None


@bp.post("/attestation/options")
def attestation_options() -> Response:
    req = schemas.registration_request(schemas.json_body(request))
    ceremony_id, options = begin_registration(services(), req, caller(), signed_in=_signed_in_id())
    remember_ceremony(_REGISTRATION, ceremony_id)
    return _ok(options)


@bp.post("/attestation/result")
def attestation_result() -> Response:
    response = registration_response(schemas.json_body(request))
    who = caller()
    finish_registration(services(), response, take_ceremony(_REGISTRATION), who)
    return _ok()


@bp.post("/assertion/options")
def assertion_options() -> Response:
    req = schemas.assertion_request(schemas.json_body(request))
    ceremony_id, options = begin_authentication(services(), req, caller())
    remember_ceremony(_AUTHENTICATION, ceremony_id)
    return _ok(options)


@bp.post("/assertion/result")
def assertion_result() -> Response:
    response = assertion_response(schemas.json_body(request))
    who = caller()
    signed_in = finish_authentication(services(), response, take_ceremony(_AUTHENTICATION), who)
    sign_in(signed_in.user_id, signed_in.username, user_verified=signed_in.user_verified)
    return _ok()
