"""RegistrationResponseJSON and AuthenticationResponseJSON, checked into typed values.

Both the HTTP endpoints and the shared-vector tests start here, so a response is judged the
same way whichever door it came through. Everything is parsed here (JSON types,
base64url, ``id`` = ``rawId``, client data, authenticator data, CBOR) before any stored state
is touched, so bad input changes nothing; meaning is checked by the ceremony modules in
spec order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fido2.webauthn import AttestationObject, AuthenticatorData

from authsvc.ceremony.parsing import (
    ClientData,
    parse_attestation_object,
    parse_authenticator_data,
    parse_client_data,
)
from authsvc.encoding import b64url_decode
from authsvc.errors import Malformed

MAX_CREDENTIAL_ID_BYTES = 1023
_MAX_FIELD_BYTES = 32 * 1024
_KNOWN_TRANSPORTS = frozenset({"ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"})
_ATTACHMENTS = frozenset({"platform", "cross-platform"})


@dataclass(frozen=True, slots=True)
class RegistrationResponse:
    """A registration response with every byte field parsed (nothing verified yet)."""

    credential_id: bytes
    client_data: ClientData
    attestation: AttestationObject
    transports: tuple[str, ...]
    attachment: str | None


@dataclass(frozen=True, slots=True)
class AssertionResponse:
    """An assertion response with every byte field parsed (nothing verified yet)."""

    credential_id: bytes
    client_data: ClientData
    authenticator_data: AuthenticatorData
    signature: bytes
    user_handle: bytes | None
    attachment: str | None


def _object(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Malformed(f"{name} must be an object")
    return value


def _credential_id(body: Mapping[str, Any]) -> bytes:
    if body.get("type") != "public-key":
        raise Malformed('type must be "public-key"')
    raw_text = body.get("rawId")
    raw_id = b64url_decode(raw_text, field="rawId", max_bytes=_MAX_FIELD_BYTES)
    id_text = body.get("id")
    if id_text != raw_text and b64url_decode(id_text, field="id") != raw_id:
        raise Malformed("id and rawId differ")
    if not raw_id:
        raise Malformed("rawId is empty")
    return raw_id


def _attachment(body: Mapping[str, Any]) -> str | None:
    value = body.get("authenticatorAttachment")
    if value is None:
        return None
    if not isinstance(value, str) or value not in _ATTACHMENTS:
        raise Malformed("authenticatorAttachment is not platform or cross-platform")
    return str(value)


def _field(response: Mapping[str, Any], name: str) -> bytes:
    return b64url_decode(response.get(name), field=f"response.{name}", max_bytes=_MAX_FIELD_BYTES)


def _transports(body: Mapping[str, Any], response: Mapping[str, Any]) -> tuple[str, ...]:
    # Older clients put transports at the top level of the credential; current ones in response.
    value = response.get("transports", body.get("transports", []))
    if not isinstance(value, list) or len(value) > len(_KNOWN_TRANSPORTS) * 2:
        raise Malformed("transports must be a short list of strings")
    if not all(isinstance(t, str) for t in value):
        raise Malformed("transports must be a short list of strings")
    # Unknown transports are dropped, not refused: the spec lets clients add new ones.
    return tuple(sorted({t for t in value if t in _KNOWN_TRANSPORTS}))


def registration_response(body: object) -> RegistrationResponse:
    """Check a RegistrationResponseJSON's shape and parse its fields; raise Malformed."""
    body = _object(body, "the credential")
    credential_id = _credential_id(body)
    response = _object(body.get("response"), "response")
    return RegistrationResponse(
        credential_id=credential_id,
        client_data=parse_client_data(_field(response, "clientDataJSON")),
        attestation=parse_attestation_object(_field(response, "attestationObject")),
        transports=_transports(body, response),
        attachment=_attachment(body),
    )


def assertion_response(body: object) -> AssertionResponse:
    """Check an AuthenticationResponseJSON's shape and parse its fields; raise Malformed."""
    body = _object(body, "the credential")
    credential_id = _credential_id(body)
    response = _object(body.get("response"), "response")
    handle = response.get("userHandle")
    return AssertionResponse(
        credential_id=credential_id,
        client_data=parse_client_data(_field(response, "clientDataJSON")),
        authenticator_data=parse_authenticator_data(_field(response, "authenticatorData")),
        signature=_field(response, "signature"),
        user_handle=None
        if handle is None or handle == ""
        else b64url_decode(handle, field="response.userHandle", max_bytes=64),
        attachment=_attachment(body),
    )
