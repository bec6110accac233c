"""Attestation objects and authenticator data: every CBOR field held to the same rules.

Real vectors show what real clients write (the Feitian BioPass's keys out of canonical order);
hand-laid ones show each ambiguity refused in each field, with nothing else wrong.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable

import pytest
from fido2 import cbor
from hypothesis import given, settings
from hypothesis import strategies as st

from authsvc.ceremony.cbor_input import MAX_NESTING
from authsvc.ceremony.parsing import parse_attestation_object, parse_authenticator_data
from authsvc.errors import Malformed
from tests.shared import Vector, load_vectors
from tests.unit.ceremony.cbor_writing import cbor_map, entry, head, nested_maps

UP, AT, ED = 0x01, 0x40, 0x80
CREDENTIAL = bytes(16) + (4).to_bytes(2, "big") + b"cred"  # aaguid, id length, id
KEY_ENTRIES = (entry(1, 2), entry(3, -7), entry(-1, 1), entry(-2, b"x" * 32), entry(-3, b"y" * 32))
COSE_KEY = cbor_map(*KEY_ENTRIES)
EXTENSIONS = cbor_map(entry("credProtect", 2), entry("hmac-secret", True))


def auth_data(*, key: bytes | None = COSE_KEY, extensions: bytes | None = None) -> bytes:
    """Authenticator data with AT and ED set to match what it holds."""
    flags = UP | (AT if key is not None else 0) | (ED if extensions is not None else 0)
    credential = b"" if key is None else CREDENTIAL + key
    return bytes(32) + bytes([flags]) + bytes(4) + credential + (extensions or b"")


def attestation_object(data: bytes, *extra: tuple[bytes, bytes]) -> bytes:
    return cbor_map(entry("fmt", "none"), entry("attStmt", {}), entry("authData", data), *extra)


def vector_attestation_object(name: str) -> bytes:
    vector = next(v for v in load_vectors("registration", Vector) if v.name == name)
    text: str = vector.data["response"]["response"]["attestationObject"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def refused(parse: Callable[[bytes], object], data: bytes, reason: str) -> None:
    with pytest.raises(Malformed, match=reason):
        parse(data)


def test_a_real_object_with_keys_out_of_canonical_order_is_accepted() -> None:
    raw = vector_attestation_object("packed-feitian-biopass-registration")
    assert cbor.encode(cbor.decode(raw)) != raw  # the point of the vector
    assert parse_attestation_object(raw).fmt == "packed"


@pytest.mark.parametrize(
    "name", ["packed-feitian-biopass-registration", "none-android-app-extensions-registration"]
)
def test_every_truncation_of_a_real_attestation_object_is_refused(name: str) -> None:
    raw = vector_attestation_object(name)
    parse_attestation_object(raw)
    for cut in range(len(raw)):
        refused(parse_attestation_object, raw[:cut], "is truncated")


def test_every_truncation_of_auth_data_inside_a_well_formed_object_is_refused() -> None:
    raw = vector_attestation_object("none-android-app-extensions-registration")
    data = cbor.decode(raw)
    assert isinstance(data, dict)
    full: bytes = data["authData"]
    for cut in range(len(full)):
        with pytest.raises(Malformed):
            parse_attestation_object(cbor.encode({**data, "authData": full[:cut]}))


def test_any_key_order_and_head_width_in_every_field_is_accepted() -> None:
    key = head(5, 5, 1) + b"".join(k + v for k, v in reversed(KEY_ENTRIES))
    extensions = cbor_map((head(3, 11, 2) + b"credProtect", head(0, 2, 8)))
    data = auth_data(key=key, extensions=extensions)
    obj = parse_attestation_object(
        cbor_map(
            entry("authData", data), (cbor.encode("attStmt"), head(5, 0, 4)), entry("fmt", "none")
        )
    )
    assert obj.auth_data.credential_data is not None
    assert obj.auth_data.credential_data.public_key[3] == -7
    assert obj.auth_data.extensions == {"credProtect": 2}
    assert parse_authenticator_data(auth_data(key=None, extensions=extensions)).extensions == {
        "credProtect": 2
    }


def _twice(*entries: tuple[bytes, bytes]) -> bytes:
    return cbor_map(*entries, entries[-1])


DUPLICATES: dict[str, bytes] = {
    "top-level": attestation_object(auth_data(), entry("fmt", "none")),
    "att-stmt": cbor_map(
        entry("fmt", "none"),
        (cbor.encode("attStmt"), _twice(entry("alg", -7))),
        entry("authData", auth_data()),
    ),
    "cose-key": attestation_object(auth_data(key=_twice(*KEY_ENTRIES))),
    "cose-key-written-two-ways": attestation_object(
        auth_data(key=cbor_map(*KEY_ENTRIES, (head(0, 3, 1), cbor.encode(-8))))
    ),
    "extensions": attestation_object(auth_data(extensions=_twice(entry("credProtect", 2)))),
    "extensions-written-two-ways": attestation_object(
        auth_data(
            extensions=cbor_map(entry("credProtect", 2), (head(3, 11, 1) + b"credProtect", b"\x01"))
        )
    ),
}


@pytest.mark.parametrize("field", sorted(DUPLICATES))
def test_a_duplicate_key_in_any_registration_field_is_refused(field: str) -> None:
    refused(parse_attestation_object, DUPLICATES[field], "has a duplicate map key")


def test_a_duplicate_key_in_assertion_extensions_is_refused() -> None:
    data = auth_data(key=None, extensions=_twice(entry("credProtect", 2)))
    refused(parse_authenticator_data, data, "authenticator extensions has a duplicate map key")


def _deep(depth: int) -> dict[str, bytes]:
    """Objects in which one CBOR item (the object itself, the COSE key or the extensions)
    nests ``depth`` levels, through each of its fields in turn."""

    def extra(levels: int) -> tuple[bytes, bytes]:
        return cbor.encode("x"), nested_maps(levels)

    return {
        "top-level": attestation_object(auth_data(), extra(depth - 1)),
        "att-stmt": cbor_map(
            entry("fmt", "none"),
            (cbor.encode("attStmt"), cbor_map(extra(depth - 2))),
            entry("authData", auth_data()),
        ),
        "cose-key": attestation_object(auth_data(key=cbor_map(*KEY_ENTRIES, extra(depth - 1)))),
        "extensions": attestation_object(auth_data(extensions=nested_maps(depth))),
    }


@pytest.mark.parametrize("field", sorted(_deep(MAX_NESTING)))
def test_nesting_in_any_registration_field_is_limited(field: str) -> None:
    parse_attestation_object(_deep(MAX_NESTING)[field])
    refused(parse_attestation_object, _deep(MAX_NESTING + 1)[field], "nests deeper than")


def test_a_400_byte_chain_of_nested_maps_in_extensions_is_refused() -> None:
    chain = nested_maps(133)
    assert len(chain) == 400
    refused(parse_authenticator_data, auth_data(key=None, extensions=chain), "nests deeper than")
    refused(
        parse_attestation_object, attestation_object(auth_data(extensions=chain)), "nests deeper"
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (bytes(36), "authenticatorData is truncated"),
        (bytes(37) + b"\x00", "authenticatorData has trailing bytes"),
        (auth_data()[:50], "authenticatorData is truncated"),
        (auth_data()[:53] + b"\xff\xff" + CREDENTIAL[18:], "authenticatorData is truncated"),
        (auth_data(key=b""), "credential public key is missing"),
        (auth_data(key=cbor.encode([1])), "credential public key is not a CBOR map"),
        (auth_data(key=COSE_KEY[:-1]), "credential public key is truncated"),
        (auth_data() + b"\x00", "authenticatorData has trailing bytes"),
        (auth_data(extensions=b""), "authenticator extensions is missing"),
        (auth_data(extensions=b"\xf6"), "authenticator extensions is not a CBOR map"),
        (auth_data(extensions=EXTENSIONS[:-1]), "authenticator extensions is truncated"),
        (auth_data(extensions=EXTENSIONS) + b"\xa0", "authenticatorData has trailing bytes"),
        (auth_data(extensions=b"\xbf\xff"), "authenticator extensions uses a CBOR indefinite"),
        (auth_data(extensions=b"\xa1\x01\xf6"), "authenticator extensions holds a CBOR simple"),
        (auth_data(key=cbor_map(*KEY_ENTRIES, (b"\x23", b"\xc1\x00"))), "holds a CBOR tag"),
    ],
    ids=lambda v: None if isinstance(v, bytes) else v,
)
def test_authenticator_data_layout_and_cbor_are_checked(data: bytes, reason: str) -> None:
    refused(parse_authenticator_data, data, reason)
    if len(data) > 37 and data[32] & AT:
        refused(parse_attestation_object, attestation_object(data), reason)


def test_bare_authenticator_data_has_no_cbor_to_check() -> None:
    parsed = parse_authenticator_data(bytes(32) + bytes([UP]) + bytes(4))
    assert parsed.credential_data is None and parsed.extensions is None


@settings(max_examples=400, deadline=None)
@given(flags=st.integers(0, 255), tail=st.binary(max_size=120))
def test_arbitrary_authenticator_data_parses_or_raises_malformed(flags: int, tail: bytes) -> None:
    with contextlib.suppress(Malformed):
        parse_authenticator_data(bytes(32) + bytes([flags]) + bytes(4) + tail)
