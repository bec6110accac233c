"""clientDataJSON read with json.loads: the rules python-fido2's parser applied, kept.

Each case is a byte string a hostile client could send; every refusal is ``malformed`` with
the parser's message, never another error.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from authsvc.ceremony.parsing import parse_client_data
from authsvc.errors import Malformed

GOOD = {"type": "webauthn.get", "challenge": "AAEC", "origin": "https://example.com"}


def _raw(**members: object) -> bytes:
    return json.dumps({**GOOD, **members}, separators=(",", ":")).encode()


def test_the_members_and_the_hash_of_the_bytes_as_received() -> None:
    raw = _raw(crossOrigin=True, topOrigin="https://top.example")
    parsed = parse_client_data(raw)
    assert (parsed.type, parsed.challenge, parsed.origin) == (
        "webauthn.get",
        "AAEC",
        "https://example.com",
    )
    assert parsed.cross_origin and parsed.top_origin == "https://top.example"
    assert parsed.hash == hashlib.sha256(raw).digest()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xef\xbb\xbf" + _raw(), "clientDataJSON cannot be parsed"),  # a UTF-8 byte order mark
        (_raw().replace(b"AAEC", b"AA\xff\xfe"), "clientDataJSON cannot be parsed"),  # not UTF-8
        (_raw().decode().encode("utf-16"), "clientDataJSON cannot be parsed"),  # UTF-16
        (_raw()[:-1], "clientDataJSON cannot be parsed"),  # truncated
        (b"[" * 100_000 + b"]" * 100_000, "clientDataJSON cannot be parsed"),  # deep nesting
        (_raw(challenge="A"), "clientDataJSON cannot be parsed"),  # not base64url
        (_raw(challenge="é"), "clientDataJSON cannot be parsed"),  # not ASCII
        (
            _raw(challenge=4_000_000_000),
            "clientDataJSON type, challenge and origin must be strings",
        ),
        (
            b'{"type":"webauthn.get","origin":"https://example.com"}',
            "clientDataJSON cannot be parsed",
        ),
        (b'["webauthn.get"]', "clientDataJSON must be a JSON object"),
        (_raw(type=None), "clientDataJSON type, challenge and origin must be strings"),
        (
            _raw(origin=["https://example.com"]),
            "clientDataJSON type, challenge and origin must be strings",
        ),
        (_raw(crossOrigin="true"), "clientDataJSON crossOrigin or topOrigin has the wrong type"),
        (_raw(topOrigin=1), "clientDataJSON crossOrigin or topOrigin has the wrong type"),
    ],
)
def test_hostile_client_data_is_malformed(raw: bytes, message: str) -> None:
    with pytest.raises(Malformed) as raised:
        parse_client_data(raw)
    assert raised.value.detail == message


def test_what_fidos_parser_accepted_is_still_accepted() -> None:
    """A null crossOrigin is false; a repeated member keeps its last value (as json.loads
    does, and fido2 did); padding is left for the challenge comparison to strip."""
    assert parse_client_data(_raw(crossOrigin=None)).cross_origin is False
    repeated = b'{"type":"webauthn.create",' + _raw()[1:]
    assert parse_client_data(repeated).type == "webauthn.get"
    assert parse_client_data(_raw(challenge="AAEC==")).challenge == "AAEC=="
