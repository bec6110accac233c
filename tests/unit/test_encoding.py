"""Strict base64url: one alphabet per string, exact padding, nothing else."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authsvc.encoding import b64url_decode, b64url_encode
from authsvc.errors import Malformed


@given(st.binary(max_size=200))
def test_round_trip_with_and_without_padding(data: bytes) -> None:
    encoded = b64url_encode(data)
    assert "=" not in encoded
    assert b64url_decode(encoded, field="f") == data
    assert b64url_decode(base64.urlsafe_b64encode(data).decode(), field="f") == data
    assert b64url_decode(base64.standard_b64encode(data).decode(), field="f") == data


@pytest.mark.parametrize(
    "value",
    [
        "ab=",
        "ab=c",
        "abcd=",
        "a===",
        "a",
        "ab c",
        "ab\nc",
        "ab.c",
        "a-b+",
        "a_b/",
        "abé=",
        "\udc80abc",
    ],
)
def test_refused(value: str) -> None:
    with pytest.raises(Malformed) as err:
        b64url_decode(value, field="rawId")
    assert "rawId" in err.value.detail
    assert value not in err.value.detail or value == "a"


@pytest.mark.parametrize("value", [None, 5, b"abc", ["abc"]])
def test_not_a_string(value: object) -> None:
    with pytest.raises(Malformed):
        b64url_decode(value, field="x")


def test_length_limit() -> None:
    assert b64url_decode("A" * 8, field="x", max_bytes=6) == b"\x00" * 6
    with pytest.raises(Malformed):
        b64url_decode("A" * 12, field="x", max_bytes=6)
