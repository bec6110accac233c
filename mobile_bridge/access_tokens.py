"""Access tokens as RFC 9068 JWTs: minted with the active signing key, verified by ``kid``.

A token says who (``sub``: the WebAuthn user handle, base64url, never a row id), how
(``amr``, RFC 8176: ``hwk`` or ``swk``, plus ``user`` when the sign-in verified the user),
when the user last verified (``auth_time``, for step-up), with which passkey
(``credential_id``), in which token session (``sid``), for which app (``client_id``) and,
when bound, to which DPoP key (``cnf.jkt``, RFC 9449 §6). The JOSE work (ES256 signing,
header and claim checks) is joserfc's; this module decides what is required of a token.

Verification refuses, in this order: a value too long or not a JWS, any ``alg`` but ES256,
a ``typ`` other than ``at+jwt``, a ``kid`` no known key has, a bad signature, then the
claims (``iss``, ``aud``, ``exp``/``iat`` with a small leeway, and every claim this service
needs present and of its type). Whether the session behind ``sid`` is still live is the
service's question, not this module's.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key
from joserfc.jws import JWSRegistry

from mobile_bridge.signing_keys import ALGORITHM, SigningKey

TOKEN_TYPE: Final = "at+jwt"  # noqa: S105 - a media type, not a secret
#: RFC 9068 §4: either spelling of the media type
_TOKEN_TYPES: Final = frozenset({"at+jwt", "application/at+jwt"})
MAX_TOKEN_CHARS: Final = 4096
#: seconds of clock skew tolerated on ``exp`` and ``iat``
LEEWAY: Final = 30
AMR_HARDWARE: Final = "hwk"
AMR_SOFTWARE: Final = "swk"
AMR_USER: Final = "user"
_REGISTRY: Final = JWSRegistry(algorithms=[ALGORITHM])
_REQUIRED_STRINGS: Final = ("iss", "sub", "jti", "sid", "credential_id")


class AccessTokenInvalid(ValueError):
    """The token is not one of ours, not for us, or no longer valid (reason in the text)."""


def amr_of(*, hardware_key: bool, user_verified: bool) -> tuple[str, ...]:
    """RFC 8176 methods of a passkey sign-in: the key's kind, and ``user`` if UV was done."""
    kind = AMR_HARDWARE if hardware_key else AMR_SOFTWARE
    return (kind, AMR_USER) if user_verified else (kind,)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessClaims:
    """What an access token asserts. Times are whole epoch seconds (NumericDate)."""

    issuer: str
    audience: str
    subject: str  # base64url user handle
    issued_at: int
    expires_at: int
    jti: str
    amr: tuple[str, ...]
    auth_time: int | None
    credential_id: str  # base64url
    sid: str
    client_id: str | None = None
    jkt: str | None = None

    def to_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": self.subject,
            "iat": self.issued_at,
            "exp": self.expires_at,
            "jti": self.jti,
            "amr": list(self.amr),
            "credential_id": self.credential_id,
            "sid": self.sid,
        }
        if self.auth_time is not None:
            claims["auth_time"] = self.auth_time
        if self.client_id is not None:
            claims["client_id"] = self.client_id
        if self.jkt is not None:
            claims["cnf"] = {"jkt": self.jkt}
        return claims


def new_jti() -> str:
    return secrets.token_urlsafe(16)


def mint(claims: AccessClaims, key: SigningKey) -> str:
    """The signed token: header ``typ: at+jwt``, ``alg: ES256``, the key's ``kid``."""
    header = {"typ": TOKEN_TYPE, "alg": ALGORITHM, "kid": key.kid}
    return jwt.encode(header, claims.to_claims(), key.key, registry=_REGISTRY)


def verify(
    token: str,
    *,
    find_key: Callable[[str], ECKey | None],
    issuer: str,
    audience: str,
    now: float,
) -> AccessClaims:
    """Check ``token`` as described in the module docstring and return its claims."""
    if len(token) > MAX_TOKEN_CHARS:
        raise AccessTokenInvalid("the access token is too long")

    def key_for(obj: Any) -> Key:
        header = obj.headers()
        if header.get("typ") not in _TOKEN_TYPES:
            raise AccessTokenInvalid("the token is not an access token (typ)")
        kid = header.get("kid")
        found = find_key(kid) if isinstance(kid, str) else None
        if found is None:
            raise AccessTokenInvalid("the token names no current signing key")
        return found

    try:
        decoded = jwt.decode(token, key_for, registry=_REGISTRY)
        jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=LEEWAY,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            iat={"essential": True},
        ).validate(decoded.claims)
    except JoseError as exc:
        raise AccessTokenInvalid(f"the access token does not verify ({exc})") from exc
    except ValueError as exc:  # joserfc's own "Invalid key", and our refusals above
        if isinstance(exc, AccessTokenInvalid):
            raise
        raise AccessTokenInvalid("the access token does not verify") from exc
    return _claims(decoded.claims, audience)


def _claims(raw: dict[str, Any], audience: str) -> AccessClaims:
    """The typed claims; anything this service itself needs, missing or mistyped, refuses."""
    for name in _REQUIRED_STRINGS:
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise AccessTokenInvalid(f"the access token has no valid {name}")
    amr = raw.get("amr")
    if not isinstance(amr, list) or not amr or not all(isinstance(m, str) for m in amr):
        raise AccessTokenInvalid("the access token has no valid amr")
    auth_time = raw.get("auth_time")
    if auth_time is not None and (isinstance(auth_time, bool) or not isinstance(auth_time, int)):
        raise AccessTokenInvalid("the access token has an invalid auth_time")
    cnf = raw.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    if cnf is not None and not isinstance(jkt, str):
        raise AccessTokenInvalid("the access token has an invalid cnf")
    client_id = raw.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise AccessTokenInvalid("the access token has an invalid client_id")
    return AccessClaims(
        issuer=raw["iss"],
        audience=audience,  # the registry checked that ``aud`` is, or lists, this one
        subject=raw["sub"],
        issued_at=int(raw["iat"]),
        expires_at=int(raw["exp"]),
        jti=raw["jti"],
        amr=tuple(amr),
        auth_time=auth_time,
        credential_id=raw["credential_id"],
        sid=raw["sid"],
        client_id=client_id,
        jkt=jkt,
    )
