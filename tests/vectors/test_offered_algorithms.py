"""The real responses refused only because their algorithm was not offered, offered it.

The four ``neg-unsupported-*`` vectors are real registrations (ES384, ES512, RS1 and a
post-quantum ML-DSA-44 key from a YubiKey with preview firmware) that fail because the RP
offered only ES256, EdDSA, RS256 and PS256. The same bytes, with the algorithm offered,
show which ones this service can verify: everything in ``authsvc.algorithms`` but RS1
(SHA-1, which WebAuthn deprecates and we never accept).
"""

from __future__ import annotations

import pytest

from authsvc import algorithms
from authsvc.ceremony.expectation import Expectation
from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.registration import verify_registration
from authsvc.ceremony.responses import registration_response
from authsvc.encoding import b64url_decode
from authsvc.errors import UnsupportedAlgorithm
from authsvc.trust.anchors import TrustAnchors
from tests.shared import Vector, load_vectors

RS1 = -65535
REFUSED_FOR_ALGORITHM: list[Vector] = [
    v
    for v in load_vectors("registration", Vector)
    if v.expected.get("code") == "unsupported_algorithm"
]


def _verify(vector: Vector, offered: tuple[int, ...]) -> tuple[int, str, bool]:
    v = vector.data
    reg = verify_registration(
        response=registration_response(v["response"]),
        expected=Expectation(
            challenge=b64url_decode(v["challenge"], field="challenge"),
            rp_id=v["rp_id"],
            origins=OriginPolicy.of(v["origins"]),
            user_verification=v["user_verification"],
            algorithms=offered,
        ),
        anchors=TrustAnchors.from_pem_strings(vector.trust_roots),
        at=vector.at,
        require_trusted=bool(vector.trust_roots),
    )
    return reg.algorithm, reg.attestation_type, reg.trusted


def _key_algorithm(vector: Vector) -> int:
    attestation = registration_response(vector.data["response"]).attestation
    credential = attestation.auth_data.credential_data
    assert credential is not None
    alg = credential.public_key[3]
    assert isinstance(alg, int)
    return alg


def test_the_four_are_there() -> None:
    assert sorted(_key_algorithm(v) for v in REFUSED_FOR_ALGORITHM) == sorted(
        [algorithms.ES384, algorithms.ES512, algorithms.ML_DSA_44, RS1]
    )


@pytest.mark.parametrize("vector", REFUSED_FOR_ALGORITHM, ids=lambda v: v.name)
def test_offered_it_verifies_unless_it_is_rs1(vector: Vector) -> None:
    alg = _key_algorithm(vector)
    offered = (*vector.algorithms, alg)
    if alg == RS1:
        with pytest.raises(UnsupportedAlgorithm):
            _verify(vector, offered)
        return
    got_alg, attestation_type, _trusted = _verify(vector, offered)
    assert got_alg == alg
    assert attestation_type in {"basic", "self", "attca"}


def test_the_post_quantum_yubikey_is_packed_full_attestation() -> None:
    (vector,) = [v for v in REFUSED_FOR_ALGORITHM if _key_algorithm(v) == algorithms.ML_DSA_44]
    assert _verify(vector, (algorithms.ES256, algorithms.ML_DSA_44)) == (-48, "basic", False)
