"""Credential public keys: COSE (parsed by python-fido2) to ready-to-verify keys, cached.

fido2's ``CoseKey.verify`` rebuilds a cryptography key object on every call. A sign-in must
cost one signature verification and little else, so the stored COSE bytes are turned into
a verifier once per process and kept in a bounded LRU cache keyed by those bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from fido2 import cbor
from fido2.cose import CoseKey

from authsvc.errors import Malformed, SignatureInvalid, UnsupportedAlgorithm

ES256, EDDSA, RS256, PS256 = -7, -8, -257, -37
#: The algorithms offered in pubKeyCredParams, in order of preference (ES256 first).
SUPPORTED_ALGORITHMS: tuple[int, ...] = (ES256, EDDSA, RS256, PS256)

_COSE_EC2_P256, _COSE_OKP_ED25519 = 1, 6
_MIN_RSA_BITS = 2048

Verifier = Callable[[bytes, bytes], None]


def cose_algorithm(cose: Mapping[int, Any]) -> int:
    alg = cose.get(3)
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise Malformed("credential public key has no algorithm")
    return alg


def build_verifier(cose: Mapping[int, Any]) -> Verifier:
    """A function ``verify(message, signature)`` raising SignatureInvalid; checks the key."""
    alg = cose_algorithm(cose)
    try:
        if alg == ES256:
            if cose.get(1) != 2 or cose.get(-1) != _COSE_EC2_P256:
                raise Malformed("ES256 key must be an EC2 key on P-256")
            ec_key = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b"\x04" + _coord(cose, -2) + _coord(cose, -3)
            )
            ecdsa = ec.ECDSA(hashes.SHA256())
            return _guard(lambda m, s: ec_key.verify(s, m, ecdsa))
        if alg == EDDSA:
            if cose.get(1) != 1 or cose.get(-1) != _COSE_OKP_ED25519:
                raise Malformed("EdDSA key must be an OKP key on Ed25519")
            ed_key = ed25519.Ed25519PublicKey.from_public_bytes(_coord(cose, -2))
            return _guard(lambda m, s: ed_key.verify(s, m))
        if alg in (RS256, PS256):
            if cose.get(1) != 3:
                raise Malformed("RSA key must have kty RSA")
            n, e = int.from_bytes(_bytes(cose, -1), "big"), int.from_bytes(_bytes(cose, -2), "big")
            rsa_key = rsa.RSAPublicNumbers(e, n).public_key()
            if rsa_key.key_size < _MIN_RSA_BITS:
                raise Malformed("RSA key is shorter than 2048 bits")
            sha256 = hashes.SHA256()
            pad: padding.AsymmetricPadding = (
                padding.PKCS1v15()
                if alg == RS256
                else padding.PSS(mgf=padding.MGF1(sha256), salt_length=padding.PSS.DIGEST_LENGTH)
            )
            return _guard(lambda m, s: rsa_key.verify(s, m, pad, sha256))
    except (ValueError, TypeError) as exc:
        raise Malformed("credential public key is invalid") from exc
    raise UnsupportedAlgorithm(f"algorithm {alg} is not supported")


def _bytes(cose: Mapping[int, Any], label: int) -> bytes:
    value = cose.get(label)
    if not isinstance(value, bytes):
        raise Malformed(f"credential public key parameter {label} is missing")
    return value


def _coord(cose: Mapping[int, Any], label: int) -> bytes:
    value = _bytes(cose, label)
    if len(value) != 32:  # P-256 coordinates and Ed25519 keys are both 32 bytes
        raise Malformed(f"credential public key parameter {label} has the wrong length")
    return value


def _guard(verify: Callable[[bytes, bytes], None]) -> Verifier:
    def checked(message: bytes, signature: bytes) -> None:
        try:
            verify(message, signature)
        except InvalidSignature as exc:
            raise SignatureInvalid() from exc

    return checked


def decode_cose(cose_bytes: bytes) -> CoseKey:
    """Parse stored COSE_Key bytes with fido2; raise Malformed if they are not a COSE key."""
    try:
        decoded = cbor.decode(cose_bytes)
        if not isinstance(decoded, Mapping):
            raise TypeError("COSE key is not a map")
        return CoseKey.parse(decoded)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise Malformed("credential public key cannot be parsed") from exc


@lru_cache(maxsize=8192)
def verifier_for(cose_bytes: bytes) -> Verifier:
    """The cached verifier for a stored credential key (bytes as stored at registration)."""
    return build_verifier(decode_cose(cose_bytes))
