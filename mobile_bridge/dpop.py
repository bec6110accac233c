"""DPoP proofs (RFC 9449): verifying one, and the server nonces every proof must carry.

A proof is a JWT the client signs, for one request, with a key whose public half it puts in
the header (``jwk``); the service remembers the key's RFC 7638 thumbprint (``jkt``) in the
tokens it binds, and every later use of them must come with a fresh proof by that key. The
checks follow RFC 9449 §4.3 in order: a JWS with ``typ: dpop+jwt``, an asymmetric ``alg``
(never ``none`` or an HMAC), a public ``jwk`` that verifies the signature, the claims
``jti``, ``htm`` (this request's method), ``htu`` (this request's URL without query and
fragment, compared after RFC 3986 normalisation with the URLs the service answers at), an
``iat`` within a window, the server's ``nonce`` and, with an access token, ``ath`` (its
base64url SHA-256). Replay of a ``jti`` is refused by the caller's store, which this module
does not see.

Nonces are stateless: an HMAC of the current time step under a key derived from
``SECRET_KEY``, so every instance issues and accepts the same ones; the current and the
previous step are accepted, so a nonce lives between one and two steps.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from joserfc import jwk, jwt
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry

PROOF_TYPE: Final = "dpop+jwt"
#: asymmetric algorithms only (RFC 9449 §4.2): never "none", never a MAC
ALGORITHMS: Final = ("ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256")
MAX_PROOF_CHARS: Final = 4096
#: how old (seconds) a proof's ``iat`` may be, and how far ahead of our clock
MAX_AGE: Final = 300
MAX_AHEAD: Final = 60
#: how long the replay store must remember a ``jti``: as long as its ``iat`` is accepted
REPLAY_WINDOW: Final = MAX_AGE + MAX_AHEAD
NONCE_STEP: Final = 300
_NONCE_LABEL: Final = b"authsvc dpop nonce v1"
_REGISTRY: Final = JWSRegistry(algorithms=list(ALGORITHMS))
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}


class ProofInvalid(ValueError):
    """The proof is malformed, mis-signed, for another request or stale (reason in text)."""


class NonceRequired(ValueError):
    """The proof carries no nonce, or one this service no longer accepts: retry with ours."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url of the SHA-256 of the access token's ASCII (RFC 9449 §4.2)."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class Nonces:
    """Server nonces under one deployment's derived key."""

    key: bytes

    @classmethod
    def from_secret(cls, secret_key: str) -> Nonces:
        return cls(hmac.new(secret_key.encode(), _NONCE_LABEL, hashlib.sha256).digest())

    def _for_step(self, step: int) -> str:
        mac = hmac.new(self.key, step.to_bytes(8, "big", signed=True), hashlib.sha256)
        return b64url(mac.digest()[:18])

    def issue(self, now: float) -> str:
        return self._for_step(int(now // NONCE_STEP))

    def accepts(self, nonce: str, now: float) -> bool:
        step = int(now // NONCE_STEP)
        given = nonce.encode("utf-8", "replace")
        return any(hmac.compare_digest(given, self._for_step(s).encode()) for s in (step, step - 1))


def normalized_url(url: str) -> str | None:
    """``scheme://host[:port]/path`` of an absolute http(s) URL, RFC 3986 §6.2.2-6.2.3.

    Scheme and host lower-cased, a default port dropped, an empty path made ``/``, query
    and fragment dropped (RFC 9449 §4.3 step 9). None for anything else.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if ":" in host:  # an IPv6 literal keeps its brackets
        authority = f"[{host}]" if port in (None, _DEFAULT_PORTS[scheme]) else f"[{host}]:{port}"
    return f"{scheme}://{authority}{parts.path or '/'}"


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A proof that passed every check but replay: whose key, and its ``jti`` to record."""

    jkt: str
    jti: str
    issued_at: int


def verify_proof(
    proof: str,
    *,
    method: str,
    urls: Collection[str],
    now: float,
    nonces: Nonces,
    access_token: str | None = None,
) -> VerifiedProof:
    """Check ``proof`` for this request (``method`` at one of the normalised ``urls``)."""
    if len(proof) > MAX_PROOF_CHARS:
        raise ProofInvalid("the DPoP proof is too long")
    found: dict[str, jwk.Key] = {}

    def header_key(obj: Any) -> jwk.Key:
        header = obj.headers()
        if header.get("typ") != PROOF_TYPE:
            raise ProofInvalid("the DPoP proof's typ must be dpop+jwt")
        raw = header.get("jwk")
        if not isinstance(raw, dict):
            raise ProofInvalid("the DPoP proof carries no jwk")
        key = jwk.import_key(raw)
        if key.is_private or raw.keys() & {"d", "p", "q", "dp", "dq", "qi", "k"}:
            raise ProofInvalid("the DPoP proof's jwk must be a public key")
        found["key"] = key
        return key

    try:
        decoded = jwt.decode(proof, header_key, registry=_REGISTRY)
    except ProofInvalid:
        raise
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ProofInvalid("the DPoP proof is not a valid signed JWT") from exc
    claims = decoded.claims
    jti = _string(claims, "jti")
    if _string(claims, "htm") != method:
        raise ProofInvalid("the DPoP proof is for another HTTP method (htm)")
    if normalized_url(_string(claims, "htu")) not in urls:
        raise ProofInvalid("the DPoP proof is for another URL (htu)")
    issued_at = claims.get("iat")
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        raise ProofInvalid("the DPoP proof has no numeric iat")
    if not now - MAX_AGE <= issued_at <= now + MAX_AHEAD:
        raise ProofInvalid("the DPoP proof's iat is outside the accepted window")
    if access_token is not None:
        ath = claims.get("ath")
        expected = access_token_hash(access_token).encode()
        if not isinstance(ath, str) or not hmac.compare_digest(ath.encode(), expected):
            raise ProofInvalid("the DPoP proof's ath is not this access token's hash")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonces.accepts(nonce, now):
        raise NonceRequired("the DPoP proof must carry the current DPoP-Nonce")
    return VerifiedProof(jkt=found["key"].thumbprint(), jti=jti, issued_at=int(issued_at))


def _string(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise ProofInvalid(f"the DPoP proof has no valid {name}")
    return value
