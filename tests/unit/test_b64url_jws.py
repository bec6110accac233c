"""The JWS form of the one strict base64url decoder (RFC 7515 §2), as a BLOB's parts use it."""

from __future__ import annotations

import pytest

from authsvc.encoding import b64url_decode, b64url_decode_jws
from authsvc.errors import Malformed


@pytest.mark.parametrize(
    ("text", "data"),
    [(b"e30", b"{}"), (b"_-8", b"\xff\xef"), (b"AAAA", b"\x00\x00\x00"), (b"QQ", b"A")],
)
def test_canonical_base64url_decodes(text: bytes, data: bytes) -> None:
    assert b64url_decode_jws(text, field="part") == data
    assert b64url_decode(text.decode(), field="part") == data  # the JSON form agrees


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"", "part is empty"),
        (b"e30=", "part is not base64url"),  # padding
        (b"+/8", "part is not base64url"),  # the standard alphabet
        (b"e3 0", "part is not base64url"),  # white space
        (b"e30\n", "part is not base64url"),
        (b"e3*0", "part is not base64url"),
        (b"AAAAA", "part is not base64url"),  # a length no base64 has
        (b"QR", "part is not canonical base64url"),  # "A" with a low bit set
        (b"\xc3\xa9AA", "part is not base64url"),
    ],
)
def test_anything_else_is_refused_with_its_reason(text: bytes, reason: str) -> None:
    with pytest.raises(Malformed) as refused:
        b64url_decode_jws(text, field="part")
    assert refused.value.detail == reason


def test_the_json_form_keeps_accepting_what_real_clients_send() -> None:
    """Padding, the standard alphabet and non-canonical last characters: see encoding.py."""
    assert b64url_decode("QR", field="f") == b"A"
    assert b64url_decode("e30=", field="f") == b"{}"
    assert b64url_decode("+/8", field="f") == b"\xfb\xff"
