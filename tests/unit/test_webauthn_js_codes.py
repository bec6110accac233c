"""What webauthn_js's node tests take from the Python side stays what the service has.

``webauthn_js/test/messages.test.mjs`` checks that every problem code and every policy
reason in ``webauthn_js/test/fixtures/codes.json`` has its own plain-language message; this
test keeps that list equal to the service's, so a new code (which STYLE.md says lands with
its class, README row and test) cannot ship without a message a person can read.
``fixtures/service.json`` holds recorded answers of the conformance endpoints that the
conversion tests decode byte for byte; its options are checked here against the option
functions, so the recording cannot drift from what the service sends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from authsvc.ceremony.options import KnownCredential, creation_options, request_options
from authsvc.encoding import b64url_decode
from authsvc.errors import AuthError, all_error_classes
from authsvc.policy.evaluate import ReasonCode
from authsvc.policy.model import RecoveryReason

FIXTURES = Path(__file__).resolve().parents[2] / "webauthn_js" / "test" / "fixtures"
CONFORMANCE_MEMBERS = {"status": "ok", "errorMessage": ""}


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def _known(descriptors: list[dict[str, Any]]) -> list[KnownCredential]:
    return [
        KnownCredential(b64url_decode(d["id"], field="id"), tuple(d.get("transports", [])))
        for d in descriptors
    ]


def _without_conformance(options: dict[str, Any]) -> dict[str, Any]:
    assert {k: options[k] for k in CONFORMANCE_MEMBERS} == CONFORMANCE_MEMBERS
    return {k: v for k, v in options.items() if k not in CONFORMANCE_MEMBERS}


def test_the_problem_codes_are_the_services() -> None:
    expected = [AuthError.code, *(cls.code for cls in all_error_classes())]
    assert _load("codes.json")["problemCodes"] == expected


def test_the_policy_reasons_are_the_services() -> None:
    """Both families of ``policy_denied`` reasons: an authenticator's, and a recovery's."""
    expected = [reason.value for reason in (*ReasonCode, *RecoveryReason)]
    assert _load("codes.json")["policyReasons"] == expected


def test_the_recorded_creation_options_are_what_the_service_sends() -> None:
    recorded = _load("service.json")
    for name in ("signUp", "addPasskey"):
        options = _without_conformance(recorded[name]["options"])
        rebuilt = creation_options(
            rp_id=options["rp"]["id"],
            rp_name=options["rp"]["name"],
            user_handle=b64url_decode(options["user"]["id"], field="user.id"),
            username=options["user"]["name"],
            display_name=options["user"]["displayName"],
            challenge=b64url_decode(options["challenge"], field="challenge"),
            algorithms=[p["alg"] for p in options["pubKeyCredParams"]],
            timeout_ms=options["timeout"],
            exclude=_known(options["excludeCredentials"]),
            resident_key=options["authenticatorSelection"]["residentKey"],
            user_verification=options["authenticatorSelection"]["userVerification"],
            attachment=options["authenticatorSelection"].get("authenticatorAttachment"),
            attestation=options["attestation"],
            extensions=options["extensions"],
            hints=options.get("hints", ()),
        )
        assert rebuilt == options, name


def test_the_recorded_request_options_are_what_the_service_sends() -> None:
    recorded = _load("service.json")
    for name in ("signIn", "discoverable", "unknownCredential"):
        options = _without_conformance(recorded[name]["options"])
        rebuilt = request_options(
            rp_id=options["rpId"],
            challenge=b64url_decode(options["challenge"], field="challenge"),
            timeout_ms=options["timeout"],
            allow=_known(options["allowCredentials"]),
            user_verification=options["userVerification"],
            extensions=options["extensions"],
            hints=options.get("hints", ()),
        )
        assert rebuilt == options, name
