"""Compare attestation certificate keys with COSE credential keys and COSE algorithms.

Several attestation formats bind the credential to a certificate by key equality (apple,
android-key) or require a particular key type (fido-u2f), and a full ``packed`` statement
must be signed with the algorithm its certificate's key is for. python-fido2 can turn a
certificate key into COSE but not the reverse, and it asserts on mismatched key types, so
the comparisons live here, on cryptography key objects, compared as SubjectPublicKeyInfo.

:func:`cose_public_key` is also the one COSE-to-key converter of the credential keys the
ceremonies verify (:mod:`authsvc.ceremony.keys` builds its verifiers on it), so a key shape
is accepted or refused the same way at attestation and at sign-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from authsvc import algorithms

_KTY_OKP, _KTY_EC2, _KTY_RSA, _KTY_AKP = 1, 2, 3, 7
_CRV_ED25519 = 6
_EC2_CURVES: Mapping[int, ec.EllipticCurve] = {
    1: ec.SECP256R1(),
    2: ec.SECP384R1(),
    3: ec.SECP521R1(),
}
# Which key type each COSE algorithm signs with: the credential key algorithms of
# :mod:`authsvc.algorithms`, and the others an attestation certificate may be signed with.
_RSA_ALGORITHMS = frozenset(  # RS*, PS*, RS1
    {algorithms.RS256, -258, -259, algorithms.PS256, -38, -39, -65535}
)
_EC_ALGORITHMS: Mapping[int, str] = {  # ES* and the fully specified ESP*
    algorithms.ES256: "secp256r1",
    -9: "secp256r1",
    algorithms.ES384: "secp384r1",
    -51: "secp384r1",
    algorithms.ES512: "secp521r1",
    -52: "secp521r1",
    -47: "secp256k1",
}
_ED25519_ALGORITHMS = frozenset({algorithms.EDDSA, -19})  # EdDSA and the fully specified Ed25519
#: ML-DSA (FIPS 204): an AKP key's parameter set is named only by its algorithm (label 3).
_ML_DSA: Mapping[
    int, type[mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey]
] = {
    algorithms.ML_DSA_44: mldsa.MLDSA44PublicKey,
    algorithms.ML_DSA_65: mldsa.MLDSA65PublicKey,
    algorithms.ML_DSA_87: mldsa.MLDSA87PublicKey,
}


def cose_public_key(cose: Mapping[int, Any]) -> PublicKeyTypes:
    """The cryptography key for an EC2, OKP (Ed25519), RSA or AKP (ML-DSA) COSE key.

    Raises ValueError for any other key or a key that does not parse, including an ML-DSA key
    when the OpenSSL that cryptography runs on has no ML-DSA.
    """
    kty = cose.get(1)
    if kty == _KTY_EC2:
        crv = cose.get(-1)
        curve = _EC2_CURVES.get(crv) if isinstance(crv, int) else None
        x, y = cose.get(-2), cose.get(-3)
        if curve is None or not isinstance(x, bytes) or not isinstance(y, bytes):
            raise ValueError("EC2 key with an unknown curve or missing coordinates")
        size = (curve.key_size + 7) // 8
        if len(x) != size or len(y) != size:
            raise ValueError("EC2 coordinates have the wrong length for the curve")
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)
    if kty == _KTY_OKP and cose.get(-1) == _CRV_ED25519:
        raw = cose.get(-2)
        if not isinstance(raw, bytes):
            raise ValueError("OKP key without its public key bytes")
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    if kty == _KTY_RSA:
        n, e = cose.get(-1), cose.get(-2)
        if not (isinstance(n, bytes) and isinstance(e, bytes)):
            raise ValueError("RSA key without modulus or exponent")
        return rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key()
    if kty == _KTY_AKP:
        return _ml_dsa_key(cose)
    raise ValueError("unsupported COSE key type")


def _ml_dsa_key(cose: Mapping[int, Any]) -> PublicKeyTypes:
    alg, raw = cose.get(3), cose.get(-1)
    key_type = _ML_DSA.get(alg) if isinstance(alg, int) else None
    if key_type is None or not isinstance(raw, bytes):
        raise ValueError("AKP key without an ML-DSA algorithm or its public key bytes")
    try:
        return key_type.from_public_bytes(raw)  # checks the length for the parameter set
    except UnsupportedAlgorithm as exc:
        raise ValueError("this OpenSSL build has no ML-DSA") from exc


def same_public_key(a: PublicKeyTypes, b: PublicKeyTypes) -> bool:
    """Equal keys have equal DER SubjectPublicKeyInfo encodings."""
    spki = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(*spki) == b.public_bytes(*spki)


def key_fits_algorithm(key: PublicKeyTypes, alg: int) -> bool:
    """Whether a signature made with COSE algorithm ``alg`` could come from ``key``."""
    if alg in _RSA_ALGORITHMS:
        return isinstance(key, rsa.RSAPublicKey)
    if alg in _EC_ALGORITHMS:
        return isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == _EC_ALGORITHMS[alg]
    if alg in _ED25519_ALGORITHMS:
        return isinstance(key, ed25519.Ed25519PublicKey)
    if alg in _ML_DSA:
        return isinstance(key, _ML_DSA[alg])
    return False


def is_p256(key: PublicKeyTypes) -> bool:
    """fido-u2f allows exactly one key type, for both the credential and the certificate."""
    return isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
