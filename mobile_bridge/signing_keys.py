"""The access-token signing keys: ES256 key pairs named by ``kid``, sealed at rest.

Every instance must sign with, and publish, the same keys, so they live in the database;
what is stored of a private key is its PKCS#8 form sealed with AES-256-GCM under a key
derived from ``SECRET_KEY`` (HKDF-SHA256, a label of its own), the ``kid`` bound as
associated data, so a database dump holds no usable key and a sealed key cannot be moved
under another ``kid``. The key handling itself (generation, JWK export, RFC 7638
thumbprints, PKCS#8) is joserfc's.

A key is *active* (the one that signs) until a rotation *retires* it; a retired key still
verifies, and stays in the JWKS, until every token it signed has expired: ``retired_at``
plus the access-token lifetime. Then it is dropped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import ECKey

ALGORITHM: Final = "ES256"
CURVE: Final = "P-256"
_SEAL_LABEL: Final = b"authsvc access-token signing keys v1"
_NONCE_BYTES: Final = 12
#: the members a published key carries (RFC 7517 §4, RFC 7518 §6.2.1)
PUBLIC_MEMBERS: Final = ("kty", "crv", "x", "y", "kid", "alg", "use")


class SealedKeyInvalid(ValueError):
    """A stored private key does not open under this ``SECRET_KEY`` (changed, or tampered)."""


def sealing_key(secret_key: str) -> bytes:
    """The AES-256 key the private keys are sealed under, derived for that use alone."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_LABEL)
    return hkdf.derive(secret_key.encode())


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One key pair of the set. Times are epoch seconds on the service clock."""

    kid: str
    key: ECKey  # private for the instance that signs; the public half is what verifies
    created_at: float
    retired_at: float | None = None

    def public_jwk(self) -> dict[str, str]:
        """The JWK a resource server verifies with: no private member, ever."""
        exported = self.key.as_dict(private=False, kid=self.kid, alg=ALGORITHM, use="sig")
        return {name: str(exported[name]) for name in PUBLIC_MEMBERS}

    def published_until(self, access_token_ttl: int) -> float | None:
        """When no token it signed can still be valid; None while it is active."""
        return None if self.retired_at is None else self.retired_at + access_token_ttl


def generate(now: float) -> SigningKey:
    """A fresh ES256 key pair; its ``kid`` is its RFC 7638 thumbprint (stable, unique)."""
    key = ECKey.generate_key(CURVE, private=True)
    return SigningKey(kid=key.thumbprint(), key=key, created_at=now)


def seal(key: SigningKey, sealing: bytes) -> bytes:
    """The private key as stored: nonce || AES-GCM(PKCS#8 DER), ``kid`` as associated data."""
    nonce = os.urandom(_NONCE_BYTES)
    der = key.key.as_der(private=True)
    return nonce + AESGCM(sealing).encrypt(nonce, der, key.kid.encode())


def unseal(
    kid: str, sealed: bytes, sealing: bytes, *, created_at: float, retired_at: float | None
) -> SigningKey:
    """Open a stored key; raise SealedKeyInvalid if it does not open or is not its ``kid``."""
    nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        der = AESGCM(sealing).decrypt(nonce, body, kid.encode())
    except InvalidTag as exc:
        raise SealedKeyInvalid(f"signing key {kid} does not open under SECRET_KEY") from exc
    key = ECKey.import_key(der)
    if key.curve_name != CURVE or key.thumbprint() != kid:
        raise SealedKeyInvalid(f"signing key {kid} is not the key its kid names")
    return SigningKey(kid=kid, key=key, created_at=created_at, retired_at=retired_at)


@dataclass(frozen=True, slots=True)
class KeySet:
    """The keys one instance knows, as read from storage at one moment."""

    keys: tuple[SigningKey, ...]

    @property
    def active(self) -> SigningKey | None:
        """The newest key not retired: the one that signs (ties broken by ``kid``)."""
        live = [k for k in self.keys if k.retired_at is None]
        return max(live, key=lambda k: (k.created_at, k.kid)) if live else None

    def by_kid(self, kid: str) -> SigningKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    def published(self, now: float, access_token_ttl: int) -> list[SigningKey]:
        """Every key a token still valid at ``now`` may name: active, or recently retired."""
        found = []
        for key in self.keys:
            until = key.published_until(access_token_ttl)
            if until is None or now < until:
                found.append(key)
        return sorted(found, key=lambda k: (-k.created_at, k.kid))

    def jwks(self, now: float, access_token_ttl: int) -> dict[str, list[dict[str, str]]]:
        """The RFC 7517 §5 JWK Set document of :meth:`published`."""
        return {"keys": [k.public_jwk() for k in self.published(now, access_token_ttl)]}
