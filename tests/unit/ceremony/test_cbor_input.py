"""The CBOR walk and strict decode: unambiguous encodings pass, ambiguous or unsafe ones do not."""

from __future__ import annotations

import contextlib
import itertools
import random
import struct
from collections.abc import Callable

import pytest
from fido2 import cbor
from hypothesis import given, settings
from hypothesis import strategies as st

from authsvc.ceremony.cbor_input import MAX_NESTING, decode_strict, scan_item
from authsvc.errors import Malformed
from tests.unit.ceremony.cbor_writing import (
    cbor_map,
    entry,
    head,
    loose_encode,
    nested_arrays,
    nested_maps,
)


def refused(data: bytes, reason: str) -> None:
    with pytest.raises(Malformed, match=reason) as err:
        decode_strict(data, kind="test item")
    assert err.value.code == "malformed"
    assert err.value.detail.startswith("test item ")  # says what, never echoes the bytes


def test_items_are_counted_as_rfc_8949_data_items() -> None:
    data = cbor.encode({1: [2, b"x"], "k": {"n": True}})
    assert scan_item(data, kind="x") == (len(data), 9)
    assert scan_item(b"\x00" + data, 1, kind="x") == (len(data) + 1, 9)


def test_map_keys_in_any_order_decode_to_one_value() -> None:
    entries = [entry("fmt", "none"), entry("attStmt", {}), entry("authData", b"\x01" * 37)]
    for order in itertools.permutations(entries):
        assert decode_strict(cbor_map(*order), kind="x") == {
            "fmt": "none",
            "attStmt": {},
            "authData": b"\x01" * 37,
        }


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (head(0, 5, 1), 5),
        (head(0, 5, 2), 5),
        (head(0, 5, 4), 5),
        (head(0, 5, 8), 5),
        (head(1, 4, 1), -5),
        (head(2, 1, 2) + b"\x00", b"\x00"),
        (head(3, 1, 8) + b"a", "a"),
        (head(4, 1, 1) + b"\x00", [0]),
        (head(5, 1, 4) + b"\x01\x02", {1: 2}),
    ],
    ids=lambda v: v.hex() if isinstance(v, bytes) else None,
)
def test_non_minimal_heads_are_accepted(data: bytes, value: object) -> None:
    assert decode_strict(data, kind="x") == value


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x18",  # a one-byte argument missing
        b"\x1b\x00\x00",
        b"\x45\x00",  # 5 bytes announced, 1 present: fido2 alone returns b"\x00"
        b"\x62a",
        b"\x5b" + b"\xff" * 8,
        b"\x82\x00",
        b"\xa1\x01",
        b"\x9b" + b"\xff" * 8,  # 2**64 - 1 elements: refused at once, not walked
        b"\xbb" + b"\x7f" * 8,
    ],
    ids=bytes.hex,
)
def test_truncation_is_refused(data: bytes) -> None:
    refused(data, "is truncated")


def test_every_prefix_of_an_item_is_refused() -> None:
    data = cbor.encode({"fmt": "packed", "attStmt": {"alg": -7, "x5c": [b"c" * 300]}, "n": 2**40})
    for cut in range(len(data)):
        refused(data[:cut], "is truncated")


@pytest.mark.parametrize("tail", [b"\x00", b"\xa0", b"\xff", b"\x00" * 40])
def test_trailing_bytes_are_refused(tail: bytes) -> None:
    refused(cbor.encode({"fmt": "none"}) + tail, "has trailing bytes")


@pytest.mark.parametrize(
    "data",
    [
        cbor_map(entry("fmt", "none"), entry("fmt", "none")),
        cbor_map(entry("fmt", "none"), entry("attStmt", {}), entry("fmt", "packed")),
        cbor_map(entry(3, -7), (head(0, 3, 1), cbor.encode(-8))),  # 3 written two ways
        cbor_map(entry("a", 1), (head(3, 1, 2) + b"a", cbor.encode(1))),  # "a" written two ways
        cbor_map(entry(b"k", 1), entry(b"k", 1)),
        cbor_map(entry(1, 0), entry(True, 0)),  # distinct in CBOR, one key to Python
        cbor_map(entry("attStmt", [{}]), (cbor.encode("x"), cbor_map(entry(1, 2), entry(1, 2)))),
        head(4, 2) + cbor_map(entry(0, 0), entry(0, 0)) + b"\x00",
    ],
    ids=bytes.hex,
)
def test_duplicate_keys_are_refused_at_any_depth(data: bytes) -> None:
    refused(data, "has a duplicate map key")


@pytest.mark.parametrize(
    "data",
    [b"\x5f\x41\x00\xff", b"\x7f\x61a\xff", b"\x9f\xff", b"\xbf\xff", b"\xa1\x01\x9f\x00\xff"],
    ids=bytes.hex,
)
def test_indefinite_lengths_are_refused(data: bytes) -> None:
    refused(data, "indefinite length")


@pytest.mark.parametrize("initial", [0x1C, 0x1D, 0x1E, 0x3C, 0x5D, 0x7E, 0x9C, 0xBD])
def test_reserved_additional_information_is_refused(initial: int) -> None:
    refused(bytes([initial]) + b"\x00" * 8, "reserved CBOR additional information")


@pytest.mark.parametrize(
    "data", [b"\xc0\x60", b"\xc2\x41\x01", b"\xd8\x18\x41\x00", b"\xa1\x01\xc1\x00"], ids=bytes.hex
)
def test_tags_are_refused(data: bytes) -> None:
    refused(data, "holds a CBOR tag")


@pytest.mark.parametrize(
    "data",
    [
        b"\xf6",  # null
        b"\xf7",  # undefined
        b"\xe0",  # simple(0)
        b"\xf8\x20",  # simple(32)
        b"\xf9\x3c\x00",  # 1.0 as a half float
        struct.pack(">Bf", 0xFA, 1.5),
        struct.pack(">Bd", 0xFB, 1.5),
        b"\xff",  # a break outside any indefinite item
        b"\xa1\x03\xf6",  # fido2 alone reads {3: False}
        b"\x83\xf9\x00\x00",  # fido2 alone reads [False, 0, 0]
    ],
    ids=bytes.hex,
)
def test_simple_values_other_than_false_and_true_are_refused(data: bytes) -> None:
    refused(data, "simple value or float")


def test_false_and_true_are_accepted() -> None:
    assert decode_strict(b"\x82\xf4\xf5", kind="x") == [False, True]


@pytest.mark.parametrize("nest", [nested_arrays, nested_maps])
def test_nesting_up_to_the_limit_is_accepted(nest: Callable[[int], bytes]) -> None:
    decode_strict(nest(MAX_NESTING), kind="x")
    decode_strict(cbor_map((cbor.encode("k"), nest(MAX_NESTING - 1))), kind="x")


@pytest.mark.parametrize("nest", [nested_arrays, nested_maps])
def test_nesting_past_the_limit_is_refused(nest: Callable[[int], bytes]) -> None:
    refused(nest(MAX_NESTING + 1), f"nests deeper than {MAX_NESTING} levels")
    refused(cbor_map((cbor.encode("k"), nest(MAX_NESTING))), "nests deeper")
    refused(nest(20_000), "nests deeper")  # far past fido2's recursion limit: still Malformed


def test_nesting_is_counted_per_path_not_per_item() -> None:
    wide = cbor.encode([[[[1]]]] * 50 + [{"a": {"b": [[2]]}}] * 50)
    decode_strict(wide, kind="x")


@pytest.mark.parametrize(
    "data",
    [b"\x62\xff\xfe", b"\x63a\xed\xa0", b"\xa1\x80\x00", b"\xa1\xa0\x00"],
    ids=["invalid-utf8", "surrogate", "array-key", "map-key"],
)
def test_what_fido2_cannot_decode_is_refused(data: bytes) -> None:
    refused(data, "cannot be decoded")


scalars = (
    st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.binary(max_size=30)
    | st.text(max_size=10)
)
keys = (
    st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.text(max_size=6)
    | st.binary(max_size=6)
)
cbor_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(value=cbor_values.filter(lambda v: _depth(v) <= MAX_NESTING), seed=st.integers())
def test_any_order_and_head_width_decodes_to_the_value_written(value: object, seed: int) -> None:
    data = loose_encode(value, random.Random(seed))
    decoded = decode_strict(data, kind="x")
    assert decoded == value
    assert cbor.encode(decoded) == cbor.encode(value)  # == alone takes True for 1


@settings(max_examples=300, deadline=None)
@given(value=cbor_values, seed=st.integers(), cut=st.integers(min_value=0))
def test_a_strict_prefix_is_never_accepted(value: object, seed: int, cut: int) -> None:
    data = loose_encode(value, random.Random(seed))
    with pytest.raises(Malformed):
        decode_strict(data[: cut % len(data)], kind="x")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_malformed(data: bytes) -> None:
    with contextlib.suppress(Malformed):
        decode_strict(data, kind="x")
