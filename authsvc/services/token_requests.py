"""Requests that present tokens: DPoP proofs and access tokens, checked for our own API.

A proof (RFC 9449) is checked for the request it came with and its ``jti`` spent in the
replay store (:func:`check_proof`); an access token is checked by signature, claims and
binding, then its token session is looked up, so a revoked session's tokens stop working
here at once (:func:`authenticate`). Refusals at a protected resource are 401s that
challenge the client (``WWW-Authenticate: DPoP …``); at the token endpoint and a sign-in,
400s.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass

from authsvc.errors import (
    DpopInvalid,
    DpopInvalidAtResource,
    DpopNonceRequired,
    DpopNonceRequiredAtResource,
    Unauthenticated,
)
from authsvc.services.context import Services
from authsvc.services.tokens import BEARER, DPOP, session_record
from authsvc.storage import token_sessions as store
from authsvc.storage.db import transaction
from authsvc.storage.sessions import SessionRecord
from authsvc.storage.token_sessions import FamilyView
from mobile_bridge import access_tokens, dpop
from mobile_bridge.access_tokens import AccessClaims, AccessTokenInvalid
from mobile_bridge.dpop import NonceRequired, ProofInvalid, VerifiedProof, b64url


def dpop_urls(services: Services, path: str) -> frozenset[str]:
    """What a proof's ``htu`` may be for ``path``: this path at one of the service's origins.

    The origins are the configured ones (ORIGINS' web origins and the token issuer), never
    the request's ``Host``, which the client chooses; so a proof made for another server
    cannot be passed here, and a TLS-terminating proxy changes nothing.
    """
    origins = [o for o in services.settings.origins if o.startswith(("https://", "http://"))]
    candidates = (
        dpop.normalized_url(o.rstrip("/") + path) for o in (*origins, services.settings.issuer)
    )
    return frozenset(c for c in candidates if c is not None)


def check_proof(
    services: Services,
    proof: str,
    *,
    method: str,
    urls: Collection[str],
    access_token: str | None = None,
) -> VerifiedProof:
    """Verify a DPoP proof for this request and spend its ``jti``; raise the DPoP errors.

    With ``access_token`` (a protected resource) the refusals are 401s that challenge the
    client (RFC 9449 §7.1); without (the token endpoint, a sign-in) they are 400s.
    """
    at_resource = access_token is not None
    now = services.clock()
    try:
        verified = dpop.verify_proof(
            proof,
            method=method,
            urls=urls,
            now=now,
            nonces=services.tokens.nonces,
            access_token=access_token,
        )
    except ProofInvalid as exc:
        raise (DpopInvalidAtResource if at_resource else DpopInvalid)(str(exc)) from exc
    except NonceRequired as exc:
        raise (DpopNonceRequiredAtResource if at_resource else DpopNonceRequired)(str(exc)) from exc
    key = hashlib.sha256(f"{verified.jkt}\x00{verified.jti}".encode()).digest()
    if not services.tokens.replay.first_use(
        key, expires_at=verified.issued_at + dpop.REPLAY_WINDOW, now=now
    ):
        raise (DpopInvalidAtResource if at_resource else DpopInvalid)(
            "this DPoP proof was already used"
        )
    return verified


@dataclass(frozen=True, slots=True)
class TokenSession:
    """A request's live token session, as :func:`authenticate` found it."""

    view: FamilyView
    claims: AccessClaims
    record: SessionRecord


def authenticate(
    services: Services,
    access_token: str,
    *,
    scheme: str,
    proof: str | None,
    method: str,
    path: str,
) -> TokenSession:
    """The live token session behind an ``Authorization`` header, or a refusal.

    The token must verify (:func:`mobile_bridge.access_tokens.verify`), be sent under the
    scheme its binding needs (``DPoP`` for a bound token, with a proof by its key over this
    request and this token; ``Bearer`` otherwise), and name a session that still exists,
    whose user and passkey are active: one indexed read, so a revoked session's tokens are
    refused at once by this API, though resource servers that only check the signature
    accept them until they expire.
    """
    now = services.clock()
    keys = services.tokens.keys
    try:
        claims = access_tokens.verify(
            access_token,
            find_key=lambda kid: keys.verification_key(kid, now),
            issuer=services.settings.issuer,
            audience=services.settings.audience,
            now=now,
        )
    except AccessTokenInvalid as exc:
        raise Unauthenticated(str(exc)) from exc
    if claims.jkt is None and scheme != BEARER:
        raise DpopInvalidAtResource("this access token is not DPoP-bound: send it as Bearer")
    if claims.jkt is not None:
        if scheme != DPOP:
            raise DpopInvalidAtResource("this access token is DPoP-bound: send it as DPoP")
        if proof is None:
            raise DpopInvalidAtResource("a DPoP-bound access token needs a DPoP proof")
        verified = check_proof(
            services,
            proof,
            method=method,
            urls=dpop_urls(services, path),
            access_token=access_token,
        )
        if not secrets.compare_digest(verified.jkt, claims.jkt):
            raise DpopInvalidAtResource("the DPoP proof is not by the key the token is bound to")
    with transaction(services.engine) as conn:
        view = store.by_sid(conn, claims.sid)
    if (
        view is None
        or not view.active
        or now >= view.family.expires_at
        or view.family.dpop_jkt != claims.jkt
        or b64url(view.user_handle) != claims.subject
    ):
        raise Unauthenticated("this token's session has ended")
    return TokenSession(view, claims, session_record(view, now))
