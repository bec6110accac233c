"""The credential key algorithms: key generation, COSE public keys and signing."""

from __future__ import annotations

import hashlib
from enum import IntEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from fido2.cose import CoseKey

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


class Alg(IntEnum):
    """COSE algorithm identifiers this authenticator can make keys for."""

    ES256 = -7
    EdDSA = -8
    RS256 = -257
    PS256 = -37


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def generate_key(alg: Alg) -> PrivateKey:
    if alg is Alg.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if alg is Alg.EdDSA:
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign_message(key: PrivateKey, alg: Alg, message: bytes) -> bytes:
    """Sign ``message`` the way COSE algorithm ``alg`` says (ECDSA signatures are DER)."""
    if alg is Alg.ES256 and isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(hashes.SHA256()))
    if alg is Alg.EdDSA and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    if alg is Alg.RS256 and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    if alg is Alg.PS256 and isinstance(key, rsa.RSAPrivateKey):
        # RFC 8230: the salt is as long as the hash.
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return key.sign(message, pss, hashes.SHA256())
    raise ValueError(f"a {type(key).__name__} cannot sign with {alg.name}")


def corrupt_signature(signature: bytes) -> bytes:
    """Flip one bit of the last byte: same length and DER shape, no longer valid."""
    return signature[:-1] + bytes([signature[-1] ^ 0x01])


def public_cose_key(key: PrivateKey, alg: Alg) -> CoseKey:
    return CoseKey.for_alg(int(alg)).from_cryptography_key(key.public_key())
