"""Turn untrusted bytes into python-fido2's WebAuthn types, or raise Malformed.

python-fido2 parses client data, authenticator data, attestation objects, CBOR and COSE; it
signals bad input with whatever builtin exception the parser hit (``ValueError``,
``KeyError``, ``struct.error``, ``RecursionError`` for deeply nested JSON, ...). This module
is the one place those become our :class:`~authsvc.errors.Malformed`, so hostile input can
never surface as a 500. Every CBOR item is held to :mod:`authsvc.ceremony.cbor_input`'s rules
(no truncation, trailing bytes, duplicate keys or deep nesting), which fido2 does not check.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fido2.webauthn import AttestationObject, AuthenticatorData, CollectedClientData

from authsvc.ceremony.cbor_input import decode_strict, scan_authenticator_data
from authsvc.errors import Malformed

_PARSE_ERRORS = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    struct.error,
)

T = TypeVar("T")


def _parse(kind: str, parser: Callable[[bytes], T], raw: bytes) -> T:
    try:
        return parser(raw)
    except _PARSE_ERRORS as exc:
        raise Malformed(f"{kind} cannot be parsed") from exc


@dataclass(frozen=True, slots=True)
class ClientData:
    """The fields of clientDataJSON that the ceremonies check, with their JSON types checked."""

    type: str
    challenge: str
    origin: str
    cross_origin: bool
    top_origin: str | None
    hash: bytes


def parse_client_data(raw: bytes) -> ClientData:
    """Parse clientDataJSON with fido2 and check that each member has the JSON type it must."""
    parsed = _parse("clientDataJSON", CollectedClientData, raw)
    # fido2 exposes the decoded JSON only as ``_data``; we need its raw members, since fido2
    # decodes ``challenge`` leniently and does not surface ``topOrigin``.
    data: Any = parsed._data
    if not isinstance(data, Mapping):
        raise Malformed("clientDataJSON must be a JSON object")
    ctype, challenge, origin = data.get("type"), data.get("challenge"), data.get("origin")
    cross, top = data.get("crossOrigin", False), data.get("topOrigin")
    if not (isinstance(ctype, str) and isinstance(challenge, str) and isinstance(origin, str)):
        raise Malformed("clientDataJSON type, challenge and origin must be strings")
    if cross is None:
        cross = False
    if not isinstance(cross, bool) or not (top is None or isinstance(top, str)):
        raise Malformed("clientDataJSON crossOrigin or topOrigin has the wrong type")
    return ClientData(ctype, challenge, origin, cross, top, parsed.hash)


def parse_authenticator_data(raw: bytes) -> AuthenticatorData:
    """Parse authenticator data with fido2, its CBOR walked first and its duplicates refused."""
    items = scan_authenticator_data(raw)
    parsed = _parse("authenticatorData", AuthenticatorData, raw)
    items.check(parsed)
    return parsed


def parse_attestation_object(raw: bytes) -> AttestationObject:
    """Parse the CBOR attestation object and check its members' types."""
    obj = _parse("attestationObject", _attestation_object, raw)
    if obj.auth_data.credential_data is None:
        raise Malformed("attestationObject has no attested credential data")
    return obj


def _attestation_object(raw: bytes) -> AttestationObject:
    top = decode_strict(raw, kind="attestationObject")
    if not isinstance(top, Mapping):
        raise TypeError("attestationObject is not a CBOR map")
    if not isinstance(top.get("fmt"), str) or not isinstance(top.get("attStmt"), Mapping):
        raise TypeError("attestationObject fmt or attStmt has the wrong type")
    auth_data = top.get("authData")
    if not isinstance(auth_data, bytes):
        raise TypeError("attestationObject authData is not a byte string")
    items = scan_authenticator_data(auth_data)
    # fido2 decodes the object again and parses authData inside; decoding is deterministic,
    # so only authData's own CBOR is left to compare.
    obj = AttestationObject(raw)
    items.check(obj.auth_data)
    return obj
