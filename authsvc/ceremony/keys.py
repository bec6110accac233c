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
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from fido2.cose import CoseKey

from authsvc import algorithms
from authsvc.ceremony.cbor_input import decode_strict
from authsvc.errors import Malformed, SignatureInvalid, UnsupportedAlgorithm
from authsvc.trust.keys import cose_public_key, key_fits_algorithm

_MIN_RSA_BITS = 2048
_ECDSA: Mapping[int, ec.ECDSA] = {
    algorithms.ES256: ec.ECDSA(hashes.SHA256()),
    algorithms.ES384: ec.ECDSA(hashes.SHA384()),
    algorithms.ES512: ec.ECDSA(hashes.SHA512()),
}
_SHA256 = hashes.SHA256()
# RFC 8230 §2: PS256 uses MGF1 with SHA-256 and a salt as long as the hash.
_PSS = padding.PSS(mgf=padding.MGF1(_SHA256), salt_length=padding.PSS.DIGEST_LENGTH)

Verifier = Callable[[bytes, bytes], None]


def cose_algorithm(cose: Mapping[int, Any]) -> int:
    alg = cose.get(3)
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise Malformed("credential public key has no algorithm")
    return alg


def build_verifier(cose: Mapping[int, Any]) -> Verifier:
    """A function ``verify(message, signature)`` raising SignatureInvalid; checks the key.

    The key must be one of :data:`authsvc.algorithms.SUPPORTED` and of the type and size its
    algorithm names (an ES256 key on P-256, an ML-DSA-44 key of 1312 bytes, RSA of at least
    2048 bits); anything else is refused before it could be stored.
    """
    alg = cose_algorithm(cose)
    if alg not in algorithms.NAMES:
        raise UnsupportedAlgorithm(f"algorithm {alg} is not supported")
    name = algorithms.name_of(alg)
    try:
        key = cose_public_key(cose)
    except ValueError as exc:
        raise Malformed(f"credential public key is not a valid {name} key") from exc
    if not key_fits_algorithm(key, alg):
        raise Malformed(f"credential public key is not a {name} key")
    if isinstance(key, ec.EllipticCurvePublicKey):
        ecdsa = _ECDSA[alg]
        return _guard(lambda m, s: key.verify(s, m, ecdsa))
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            raise Malformed("RSA key is shorter than 2048 bits")
        pad = padding.PKCS1v15() if alg == algorithms.RS256 else _PSS
        return _guard(lambda m, s: key.verify(s, m, pad, _SHA256))
    if isinstance(
        key,
        ed25519.Ed25519PublicKey
        | mldsa.MLDSA44PublicKey
        | mldsa.MLDSA65PublicKey
        | mldsa.MLDSA87PublicKey,
    ):
        return _guard(lambda m, s: key.verify(s, m))  # ML-DSA: the empty context, as COSE says
    raise Malformed(f"credential public key is not a {name} key")  # pragma: no cover


def _guard(verify: Callable[[bytes, bytes], None]) -> Verifier:
    def checked(message: bytes, signature: bytes) -> None:
        try:
            verify(message, signature)
        except InvalidSignature as exc:
            raise SignatureInvalid from exc

    return checked


def decode_cose(cose_bytes: bytes) -> CoseKey:
    """Parse stored COSE_Key bytes with fido2; raise Malformed if they are not a COSE key."""
    decoded = decode_strict(cose_bytes, kind="credential public key")
    if not isinstance(decoded, Mapping):
        raise Malformed("credential public key cannot be parsed")
    try:
        return CoseKey.parse(decoded)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise Malformed("credential public key cannot be parsed") from exc


@lru_cache(maxsize=8192)
def verifier_for(cose_bytes: bytes) -> Verifier:
    """The cached verifier for a stored credential key (bytes as stored at registration)."""
    return build_verifier(decode_cose(cose_bytes))
