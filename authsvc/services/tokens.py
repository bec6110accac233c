"""Token sessions: what an app's sign-in ends with, and how it is kept going and ended.

A sign-in over ``/api/v1`` starts a *token session* (:func:`issue_tokens`, in the
ceremony's own transaction): a short-lived access token (an RFC 9068 JWT that resource
servers check on their own, :mod:`mobile_bridge.access_tokens`) and an opaque refresh
token (256 random bits, stored only as SHA-256). Each refresh (:func:`refresh`) spends the
presented token and answers a new pair; a token presented again after it was spent means
two parties hold it, so the whole session ends (RFC 9700 §4.14.2), and that ending commits
with its audit record although the request is refused.

A session started with a DPoP proof (RFC 9449) is bound to the proof's key: its access
tokens carry ``cnf.jkt``, are of type ``DPoP``, and every refresh and every use at our API
must come with a fresh proof by that key (:mod:`authsvc.services.token_requests`).

Refusals of tokens that name no session of ours (made up, or of a session long gone) are
not audited: anyone can send them, and a row each would let them grow the audit chain.
Everything that concerns a real session is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, NoReturn

from sqlalchemy import Connection

from authsvc.errors import (
    DpopInvalid,
    TokenInvalid,
)
from authsvc.services.audited import Subject, run_audited
from authsvc.services.context import Caller, Services
from authsvc.storage import token_sessions as store
from authsvc.storage.db import transaction
from authsvc.storage.sessions import SessionRecord
from authsvc.storage.token_sessions import FamilyView
from mobile_bridge import access_tokens
from mobile_bridge.access_tokens import AccessClaims
from mobile_bridge.dpop import b64url

if TYPE_CHECKING:  # app_clients -> admin -> sessions -> tokens: a type here, not an import
    from authsvc.services.app_clients import AppRef

BEARER: Final = "Bearer"
DPOP: Final = "DPoP"
REFRESH_TOKEN_BYTES: Final = 32
_REFRESH_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)
#: a token-authenticated request's :attr:`Caller.binding`: never a cookie binding's shape
TOKEN_BINDING_PREFIX: Final = "token:"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """The RFC 6749 §5.1 token response of a sign-in or a refresh."""

    access_token: str
    token_type: str  # "Bearer" or "DPoP"
    expires_in: int
    refresh_token: str

    def to_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
        }


def token_binding(sid: str) -> str:
    return TOKEN_BINDING_PREFIX + sid


def token_sid(binding: str) -> str | None:
    """The token session a binding names, if it is a token request's binding."""
    return (
        binding.removeprefix(TOKEN_BINDING_PREFIX)
        if binding.startswith(TOKEN_BINDING_PREFIX)
        else None
    )


def session_record(view: FamilyView, now: float) -> SessionRecord:
    """A token session as the account and admin use cases read a session.

    Step-up reads ``verified_at`` (the family's last user verification, the tokens'
    ``auth_time``); a token session is never ``recovered`` (recovery signs in a cookie
    session only). ``id_hash`` is the sid's bytes, so its ``public_id`` is the ``sid``.
    """
    family = view.family
    return SessionRecord(
        id_hash=bytes.fromhex(family.sid),
        user_id=family.user_id,
        credential_pk=family.credential_pk,
        user_verified=access_tokens.AMR_USER in family.amr,
        signed_in_at=family.signed_in_at,
        verified_at=family.verified_at,
        last_seen_at=now,
        expires_at=family.expires_at,
        client_address=family.client_address,
        user_agent=None,
    )


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def _mint(
    services: Services,
    conn: Connection,
    family: store.TokenFamily,
    *,
    user_handle: bytes,
    credential_id: bytes,
    client_id: str | None,
    now: float,
) -> tuple[str, int]:
    """A new access token for the session, and its lifetime in seconds."""
    issued = int(now)
    expires = min(issued + services.settings.access_token_ttl, int(family.expires_at))
    claims = AccessClaims(
        issuer=services.settings.issuer,
        audience=services.settings.audience,
        subject=b64url(user_handle),
        issued_at=issued,
        expires_at=expires,
        jti=access_tokens.new_jti(),
        amr=family.amr,
        auth_time=None if family.verified_at is None else int(family.verified_at),
        credential_id=b64url(credential_id),
        sid=family.sid,
        client_id=client_id,
        jkt=family.dpop_jkt,
    )
    key = services.tokens.keys.signing_key(conn, now)
    return access_tokens.mint(claims, key), expires - issued


def _new_refresh_token(
    conn: Connection, services: Services, family_id: int, now: float, ends: float
) -> tuple[str, float]:
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    expires = min(now + services.settings.refresh_token_ttl, ends)
    store.add_refresh_token(conn, session_id=family_id, token_hash=_hash(token), expires_at=expires)
    return token, expires


def _grant(
    access: str, expires_in: int, refresh_token: str, family: store.TokenFamily
) -> TokenGrant:
    kind = DPOP if family.dpop_jkt is not None else BEARER
    return TokenGrant(access, kind, expires_in, refresh_token)


def issue_tokens(
    services: Services,
    conn: Connection,
    subject: Subject,
    *,
    user_id: int,
    user_handle: bytes,
    credential_pk: int,
    credential_id: bytes,
    user_verified: bool,
    hardware_key: bool,
    app: AppRef | None,
    dpop_jkt: str | None,
) -> TokenGrant:
    """Start a token session (a refresh-token family) in the caller's transaction and
    return its first tokens; notes the family's public id, the app and the binding in
    subject.detail.

    amr = ["hwk" if hardware_key else "swk"] + (["user"] if user_verified else []).
    """
    now = services.clock()
    sid = secrets.token_hex(8)
    amr = access_tokens.amr_of(hardware_key=hardware_key, user_verified=user_verified)
    ends = now + services.settings.token_session_lifetime
    refresh_ends = min(now + services.settings.refresh_token_ttl, ends)
    family = store.add_family(
        conn,
        store.TokenFamily(
            id=0,
            sid=sid,
            user_id=user_id,
            credential_pk=credential_pk,
            app_pk=None if app is None else app.pk,
            dpop_jkt=dpop_jkt,
            amr=amr,
            signed_in_at=now,
            verified_at=now if user_verified else None,
            expires_at=ends,
            refresh_expires_at=refresh_ends,
            client_address=None,
        ),
    )
    refresh_token, _ = _new_refresh_token(conn, services, family.id, now, ends)
    access, expires_in = _mint(
        services,
        conn,
        family,
        user_handle=user_handle,
        credential_id=credential_id,
        client_id=None if app is None else app.client_id,
        now=now,
    )
    subject.detail["token_session"] = sid
    subject.detail["dpop_bound"] = dpop_jkt is not None
    if app is not None:
        subject.detail["app"] = app.client_id
    return _grant(access, expires_in, refresh_token, family)


def refresh(
    services: Services,
    caller: Caller,
    *,
    refresh_token: str,
    proof_jkt: str | None,
    client_id: str | None,
) -> TokenGrant:
    """Spend ``refresh_token`` and answer the session's next pair (RFC 6749 §6), audited.

    Refused with ``token_invalid`` when the token is unknown, expired, already spent (which
    also ends the session), of another client, or of a user or passkey no longer active;
    with ``dpop_invalid`` when the session is bound and the proof is missing or by
    another key.
    """
    if not _REFRESH_TOKEN.fullmatch(refresh_token):
        raise TokenInvalid("this is not a refresh token of this service")
    token_hash = _hash(refresh_token)
    with transaction(services.engine) as conn:
        known = store.presented(conn, token_hash) is not None
    if not known:
        raise TokenInvalid("unknown, expired or revoked refresh token")

    def work(conn: Connection, subject: Subject) -> TokenGrant:
        now = services.clock()
        found = store.presented(conn, token_hash)
        if found is None:  # ended between the two reads
            raise TokenInvalid("unknown, expired or revoked refresh token")
        view = found.view
        family = view.family
        subject.user_id = family.user_id
        subject.credential_id = view.credential_id
        subject.detail["token_session"] = family.sid
        if view.client_id is not None:
            subject.detail["app"] = view.client_id
        if found.used_at is not None:
            return _reused(conn, family, subject)
        if now >= found.expires_at or now >= family.expires_at or not view.active:
            store.revoke(conn, family.id)
            subject.detail["ended"] = "expired" if view.active else "inactive"
            raise TokenInvalid("the token session has ended")
        # checked before the token is spent: a thief without the app's key (or posing as
        # another client) must not be able to spend, and so end, the owner's session
        if client_id is not None and client_id != view.client_id:
            raise TokenInvalid("this refresh token was issued to another client")
        if family.dpop_jkt is not None:
            if proof_jkt is None:
                raise DpopInvalid("this token session is DPoP-bound: send a DPoP proof")
            if not secrets.compare_digest(proof_jkt, family.dpop_jkt):
                raise DpopInvalid("the DPoP proof is not by the key this session is bound to")
        if not store.spend(conn, token_hash, now):
            return _reused(conn, family, subject)  # another request spent it first
        token, expires = _new_refresh_token(conn, services, family.id, now, family.expires_at)
        store.rotated(conn, family.id, refresh_expires_at=expires, now=now)
        access, expires_in = _mint(
            services,
            conn,
            family,
            user_handle=view.user_handle,
            credential_id=view.credential_id,
            client_id=view.client_id,
            now=now,
        )
        return _grant(access, expires_in, token, family)

    return run_audited(services, "token.refresh", caller, work)


def _reused(conn: Connection, family: store.TokenFamily, subject: Subject) -> NoReturn:
    """A spent token came back: two parties hold it, so the session ends for both."""
    store.revoke(conn, family.id)
    subject.detail["reuse"] = True
    raise TokenInvalid("this refresh token was already used: the token session is ended")


def rotate_signing_keys(services: Services, caller: Caller) -> tuple[str, list[str], list[str]]:
    """``authsvc keys rotate``: a new signing key, the old one retired; audited."""

    def work(conn: Connection, subject: Subject) -> tuple[str, list[str], list[str]]:
        done = services.tokens.keys.rotate(conn, services.clock())
        subject.detail.update(kid=done.new_kid, retired=done.retired, dropped=done.dropped)
        return done.new_kid, done.retired, done.dropped

    return run_audited(services, "keys.rotate", caller, work)
