"""Turn untrusted bytes into typed values (python-fido2's where it has them), or raise Malformed.

python-fido2 parses authenticator data, attestation objects, CBOR and COSE; it signals bad
input with whatever builtin exception the parser hit (``ValueError``, ``KeyError``,
``struct.error``, ``RecursionError``, ...). This module is the one place those become our
:class:`~authsvc.errors.Malformed`, so hostile input can never surface as a 500. Every CBOR
item is held to :mod:`authsvc.ceremony.cbor_input`'s rules (no truncation, trailing bytes,
duplicate keys or deep nesting), which fido2 does not check.

clientDataJSON is read here with :func:`json.loads` (§7.1 steps 5-6, §7.2 steps 8-9): fido2's
``CollectedClientData`` keeps the decoded members only in a private attribute and does not
surface ``topOrigin``. The rules are the ones fido2's parser applied: strict UTF-8 (a byte
order mark or an invalid sequence is refused), one JSON object, and a ``challenge`` that
base64url-decodes as fido2 decodes it; a repeated member keeps its last value, as
:func:`json.loads` does.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fido2.utils import websafe_decode
from fido2.webauthn import AttestationObject, AuthenticatorData

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
    #: SHA-256 of the bytes as received (§7.1 step 12, §7.2 step 20): what the signature covers
    hash: bytes


def _client_data_members(raw: bytes) -> Any:
    members = json.loads(raw.decode("utf-8"))  # a str keeps json.loads from guessing UTF-16/32
    if isinstance(members, Mapping):
        challenge = members["challenge"]  # absent: KeyError, refused
        if isinstance(challenge, str):
            # fido2 also "decoded" a number n as n zero bytes: "challenge": 4000000000 asked
            # for 4 GB. Only a string is decoded; any other type is refused below.
            websafe_decode(challenge)
    return members


def parse_client_data(raw: bytes) -> ClientData:
    """Decode clientDataJSON and check that each member has the JSON type it must."""
    data = _parse("clientDataJSON", _client_data_members, raw)
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
    return ClientData(ctype, challenge, origin, cross, top, hashlib.sha256(raw).digest())


_UP, _UV, _BE, _BS, _AT, _ED = (
    int(f)
    for f in (
        AuthenticatorData.FLAG.UP,
        AuthenticatorData.FLAG.UV,
        AuthenticatorData.FLAG.BE,
        AuthenticatorData.FLAG.BS,
        AuthenticatorData.FLAG.AT,
        AuthenticatorData.FLAG.ED,
    )
)


@dataclass(frozen=True, slots=True)
class Flags:
    """The flags byte of authenticator data (WebAuthn §6.1), one bool per bit we read."""

    up: bool
    uv: bool
    be: bool
    bs: bool
    at: bool
    ed: bool

    @classmethod
    def of(cls, auth_data: AuthenticatorData) -> Flags:
        f = int(auth_data.flags)  # plain int bit tests: IntFlag arithmetic is slow on a hot path
        return cls(
            up=bool(f & _UP),
            uv=bool(f & _UV),
            be=bool(f & _BE),
            bs=bool(f & _BS),
            at=bool(f & _AT),
            ed=bool(f & _ED),
        )


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
