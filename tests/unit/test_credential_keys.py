"""Credential public keys: a verifier for every supported algorithm, refusal for the rest.

A key is refused before it could be stored when its type, curve or size is not the one its
algorithm names, so a sign-in never meets a key the ceremony code cannot use.
"""

from __future__ import annotations

from typing import Any

import pytest
from fido2 import cbor

from authsvc import algorithms
from authsvc.ceremony.keys import build_verifier, verifier_for
from authsvc.errors import Malformed, SignatureInvalid, UnsupportedAlgorithm
from tests.softauthn.keys import Alg, corrupt_signature, generate_key, public_cose_key, sign_message

MESSAGE = b"authenticator data || client data hash"


def _cose(alg: Alg) -> tuple[dict[int, Any], bytes]:
    key = generate_key(alg)
    return dict(public_cose_key(key, alg)), sign_message(key, alg, MESSAGE)


def test_the_soft_authenticator_covers_every_supported_algorithm() -> None:
    assert sorted(int(a) for a in Alg) == sorted(algorithms.SUPPORTED)


@pytest.mark.parametrize("alg", list(Alg), ids=lambda a: a.name)
def test_each_algorithm_verifies_its_own_signatures_only(alg: Alg) -> None:
    cose, signature = _cose(alg)
    verify = build_verifier(cose)
    verify(MESSAGE, signature)
    with pytest.raises(SignatureInvalid):
        verify(MESSAGE, corrupt_signature(signature))
    with pytest.raises(SignatureInvalid):
        verify(MESSAGE + b"!", signature)
    verifier_for(cbor.encode(cose))(MESSAGE, signature)  # the cached path, from stored bytes


@pytest.mark.parametrize(
    ("key_of", "claimed"),
    [
        (Alg.ES256, Alg.ES384),  # a P-256 key claiming P-384's algorithm
        (Alg.ES512, Alg.ES256),
        (Alg.EdDSA, Alg.ES256),
        (Alg.RS256, Alg.ML_DSA_44),
        (Alg.ML_DSA_44, Alg.ML_DSA_65),  # 1312 bytes are not an ML-DSA-65 key
        (Alg.ML_DSA_87, Alg.EdDSA),
    ],
)
def test_a_key_of_another_kind_than_its_algorithm_is_malformed(key_of: Alg, claimed: Alg) -> None:
    cose, _ = _cose(key_of)
    with pytest.raises(Malformed):
        build_verifier({**cose, 3: int(claimed)})


@pytest.mark.parametrize(
    "change",
    [
        {-1: b"\x00" * 1311},  # ML-DSA-44 public keys are exactly 1312 bytes
        {-1: "not bytes"},
        {1: 2},  # kty EC2 for an ML-DSA algorithm
        {1: None},
    ],
)
def test_a_broken_ml_dsa_key_is_malformed(change: dict[int, Any]) -> None:
    cose, _ = _cose(Alg.ML_DSA_44)
    with pytest.raises(Malformed):
        build_verifier({**cose, **change})


def test_short_rsa_keys_and_off_curve_points_are_malformed() -> None:
    cose, _ = _cose(Alg.RS256)
    with pytest.raises(Malformed, match="2048"):
        build_verifier({**cose, -1: b"\xc5" * 128})  # a 1024-bit modulus
    ec_key, _ = _cose(Alg.ES384)
    with pytest.raises(Malformed):
        build_verifier({**ec_key, -3: bytes(48)})


@pytest.mark.parametrize("alg", [-65535, -47, -9, -19, -53, 0, 12345])
def test_algorithms_outside_the_table_are_unsupported(alg: int) -> None:
    cose, _ = _cose(Alg.ES256)
    with pytest.raises(UnsupportedAlgorithm):
        build_verifier({**cose, 3: alg})


@pytest.mark.parametrize("alg", [None, "ES256", True, 1.5])
def test_a_key_without_an_integer_algorithm_is_malformed(alg: object) -> None:
    cose, _ = _cose(Alg.ES256)
    with pytest.raises(Malformed):
        build_verifier({**cose, 3: alg})
