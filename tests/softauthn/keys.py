"""The credential key algorithms: key generation, COSE public keys and signing.

Every algorithm the service can verify has a key type here, post-quantum ML-DSA included,
so each one can be registered and used over HTTP. COSE keys come from python-fido2's
``CoseKey`` classes, as a real client library would build them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import IntEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from fido2.cose import CoseKey

PrivateKey = (
    ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | rsa.RSAPrivateKey
    | mldsa.MLDSA44PrivateKey
    | mldsa.MLDSA65PrivateKey
    | mldsa.MLDSA87PrivateKey
)


class Alg(IntEnum):
    """COSE algorithm identifiers this authenticator can make keys for."""

    ES256 = -7
    EdDSA = -8
    ES384 = -35
    ES512 = -36
    RS256 = -257
    PS256 = -37
    ML_DSA_44 = -48
    ML_DSA_65 = -49
    ML_DSA_87 = -50


_CURVES: dict[Alg, tuple[ec.EllipticCurve, hashes.HashAlgorithm]] = {
    Alg.ES256: (ec.SECP256R1(), hashes.SHA256()),
    Alg.ES384: (ec.SECP384R1(), hashes.SHA384()),
    Alg.ES512: (ec.SECP521R1(), hashes.SHA512()),
}
_ML_DSA: dict[Alg, Callable[[], PrivateKey]] = {
    Alg.ML_DSA_44: mldsa.MLDSA44PrivateKey.generate,
    Alg.ML_DSA_65: mldsa.MLDSA65PrivateKey.generate,
    Alg.ML_DSA_87: mldsa.MLDSA87PrivateKey.generate,
}


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def generate_key(alg: Alg) -> PrivateKey:
    if alg in _CURVES:
        return ec.generate_private_key(_CURVES[alg][0])
    if alg is Alg.EdDSA:
        return ed25519.Ed25519PrivateKey.generate()
    if alg in _ML_DSA:
        return _ML_DSA[alg]()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign_message(key: PrivateKey, alg: Alg, message: bytes) -> bytes:
    """Sign ``message`` the way COSE algorithm ``alg`` says (ECDSA signatures are DER)."""
    if alg in _CURVES and isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(_CURVES[alg][1]))
    if alg is Alg.EdDSA and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    if alg is Alg.RS256 and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    if alg is Alg.PS256 and isinstance(key, rsa.RSAPrivateKey):
        # RFC 8230: the salt is as long as the hash.
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return key.sign(message, pss, hashes.SHA256())
    if alg in _ML_DSA and isinstance(
        key, mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
    ):
        return key.sign(message)  # the empty context, as COSE's ML-DSA says
    raise ValueError(f"a {type(key).__name__} cannot sign with {alg.name}")


def corrupt_signature(signature: bytes) -> bytes:
    """Flip one bit of the last byte: same length and DER shape, no longer valid."""
    return signature[:-1] + bytes([signature[-1] ^ 0x01])


def public_cose_key(key: PrivateKey, alg: Alg) -> CoseKey:
    return CoseKey.for_alg(int(alg)).from_cryptography_key(key.public_key())
