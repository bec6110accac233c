"""The options built from python-fido2's dataclasses: exactly the Level 3 JSON of the contract.

Compared as the JSON text a client parses (``json.dumps``), so an enum member fido2 puts in
must come out as its plain value, and a transport fido2's enum does not know must survive.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fido2.webauthn import (
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialHint,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialType,
    UserVerificationRequirement,
)

from authsvc.ceremony.options import KnownCredential, creation_options, request_options

CHALLENGE = b"\xfb" * 32  # base64url: "-_v7..." (both URL-safe characters, no padding)
SMART_CARD = KnownCredential(b"\x01" * 20, ("smart-card", "cable", "usb"))
NO_TRANSPORTS = KnownCredential(b"\x02" * 3, ())


def _creation(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "rp_id": "example.com",
        "rp_name": "Example",
        "user_handle": b"\xff\xfe",
        "username": "ada",
        "display_name": "Ada L.",
        "challenge": CHALLENGE,
        "algorithms": (-7, -8, -257),
        "timeout_ms": 300_000,
        "exclude": (SMART_CARD, NO_TRANSPORTS),
        "resident_key": "preferred",
        "user_verification": "required",
        "attachment": None,
        "attestation": "none",
        "extensions": {"credProps": True},
    }
    return creation_options(**{**arguments, **changes})


def _json(options: dict[str, Any]) -> Any:
    return json.loads(json.dumps(options))


def test_creation_options_are_the_level_3_json() -> None:
    assert _json(_creation()) == {
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": "__4", "name": "ada", "displayName": "Ada L."},
        "challenge": "-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s",
        "pubKeyCredParams": [
            {"type": "public-key", "alg": -7},
            {"type": "public-key", "alg": -8},
            {"type": "public-key", "alg": -257},
        ],
        "timeout": 300000,
        "excludeCredentials": [
            {
                "type": "public-key",
                "id": "AQEBAQEBAQEBAQEBAQEBAQEBAQE",
                "transports": ["smart-card", "cable", "usb"],
            },
            {"type": "public-key", "id": "AgIC"},
        ],
        "authenticatorSelection": {
            "residentKey": "preferred",
            "requireResidentKey": False,
            "userVerification": "required",
        },
        "attestation": "none",
        "extensions": {"credProps": True},
    }


def test_creation_options_name_the_attachment_and_hints_only_when_chosen() -> None:
    options = _json(
        _creation(attachment="cross-platform", resident_key="required", hints=("security-key",))
    )
    assert options["authenticatorSelection"] == {
        "authenticatorAttachment": "cross-platform",
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
    }
    assert options["hints"] == ["security-key"]
    assert "hints" not in _json(_creation())


def test_empty_lists_and_extensions_stay_in_the_options() -> None:
    options = _json(_creation(exclude=(), extensions={}))
    assert options["excludeCredentials"] == [] and options["extensions"] == {}
    request = _json(
        request_options(
            rp_id="example.com",
            challenge=CHALLENGE,
            timeout_ms=1000,
            allow=(),
            user_verification="preferred",
            extensions={},
        )
    )
    assert request["allowCredentials"] == [] and request["extensions"] == {}
    assert "hints" not in request


def test_request_options_are_the_level_3_json() -> None:
    options = request_options(
        rp_id="example.com",
        challenge=CHALLENGE,
        timeout_ms=60_000,
        allow=(NO_TRANSPORTS, SMART_CARD),
        user_verification="discouraged",
        extensions={"appid": "https://example.com/app-id.json"},
        hints=("client-device",),
    )
    assert json.dumps(options) == json.dumps(
        {
            "challenge": "-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s",
            "timeout": 60000,
            "rpId": "example.com",
            "allowCredentials": [
                {"type": "public-key", "id": "AgIC"},
                {
                    "type": "public-key",
                    "id": "AQEBAQEBAQEBAQEBAQEBAQEBAQE",
                    "transports": ["smart-card", "cable", "usb"],
                },
            ],
            "userVerification": "discouraged",
            "hints": ["client-device"],
            "extensions": {"appid": "https://example.com/app-id.json"},
        }
    )


def test_options_share_no_mutable_part_between_calls() -> None:
    """The RP entity and algorithm list are made once per process; what a caller gets back
    is its own."""
    first = _creation()
    first["rp"]["name"] = "changed"
    first["pubKeyCredParams"].clear()
    second = _creation()
    assert second["rp"]["name"] == "Example" and len(second["pubKeyCredParams"]) == 3


@pytest.mark.parametrize(
    ("allow", "hints", "extensions"),
    [
        ((), (), {}),
        ((KnownCredential(b"\x03" * 64, ("nfc", "usb")), NO_TRANSPORTS), (), {}),
        ((KnownCredential(b"\x04" * 20, ("hybrid", "internal")),), ("client-device",), {}),
        ((), ("security-key", "hybrid"), {"appid": "https://example.com/app-id.json"}),
    ],
)
def test_request_options_are_fido2s_json_written_directly(
    allow: tuple[KnownCredential, ...], hints: tuple[str, ...], extensions: dict[str, Any]
) -> None:
    """The hot path writes the dict itself; it must be exactly fido2's, order and all."""
    fido2s = PublicKeyCredentialRequestOptions(
        challenge=CHALLENGE,
        timeout=60_000,
        rp_id="example.com",
        allow_credentials=[
            PublicKeyCredentialDescriptor(
                type=PublicKeyCredentialType.PUBLIC_KEY,
                id=c.credential_id,
                transports=[AuthenticatorTransport(t) for t in c.transports] or None,
            )
            for c in allow
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
        hints=[PublicKeyCredentialHint(h) for h in hints] or None,
        extensions=extensions,
    )
    ours = request_options(
        rp_id="example.com",
        challenge=CHALLENGE,
        timeout_ms=60_000,
        allow=allow,
        user_verification="preferred",
        extensions=extensions,
        hints=hints,
    )
    assert json.dumps(ours) == json.dumps(dict(fido2s))
