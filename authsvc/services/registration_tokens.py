"""One-time registration tokens: a passkey for an account that has no session to vouch for it.

An app's first screen has no session, and a new user has no passkey yet. So an admin
(``POST /api/v1/admin/registration-tokens``, step-up) or an app's own back end
(``POST /api/v1/registration-tokens``, HTTP Basic with its client secret) issues a token
for a username: a new username's account is made now, without a passkey; an existing
active account gets one more passkey by it. The app hands the token to
``/api/v1/registrations/options`` and the new passkey's registration redeems it.

A token is 256 bits from the OS CSPRNG, shown once, stored only as SHA-256 in
``one_time_tokens`` (purpose ``registration``), bound to its account, short-lived
(``REGISTRATION_TOKEN_TTL``) and replacing the account's earlier registration token.
It is checked (not spent) at the options and *redeemed* at the result, in the ceremony's
transaction, together with the credential insert: the delete decides, so of two ceremonies
racing with one token exactly one stores a credential. A ceremony that fails does not
spend it: its challenge is spent instead (each try needs new, rate-limited options), and a
user whose biometric prompt failed, or whose authenticator the policy refused, should not
need a new token from an admin for a second try. A token that can be guessed does not
exist (256 bits), so retries give nothing to an attacker.

An app back end may not issue a token for an admin's account: its client secret must not
be a way into the admin API.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection

from authsvc.errors import Conflict, Forbidden, Unauthenticated
from authsvc.services.admin import Actor, run_admin
from authsvc.services.app_clients import authenticate_backend
from authsvc.services.audited import Subject, run_audited
from authsvc.services.context import Caller, Services
from authsvc.storage import recovery as store
from authsvc.storage import repositories as repo
from authsvc.storage import user_state
from authsvc.storage.db import transaction

TOKEN_BYTES: Final = 32
USER_HANDLE_BYTES: Final = 32
#: the one answer to every token that cannot be used: it must not say why
REFUSED: Final = "this registration token is not valid: it was used, replaced or has expired"
BACKEND_REFUSED: Final = "unknown client or wrong client secret"


def token_hash(token: str) -> bytes:
    """SHA-256 of a token: 256 random bits need no key and no slow hash."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as its issuer sees it, once: the only place the token itself ever is."""

    token: str
    expires_at: float  # epoch seconds
    username: str
    created: bool  # whether the account was made for it


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """The holder of a registration token for ``user_id``'s account (``username``).

    Vouches for that account only while the token is unspent and unexpired; the result
    then redeems it (:func:`redeem`).
    """

    redeems: bytes
    user_id: int
    username: str
    display_name: str
    allows_sign_up: bool = False

    def vouch(self, services: Services, conn: Connection, user_id: int) -> bool:
        found = store.find_token(conn, store.REGISTRATION_PURPOSE, self.redeems)
        if found is None or found.user_id != user_id or found.expires_at <= services.clock():
            raise Unauthenticated(REFUSED)
        return True


def holder(services: Services, token: str) -> TokenHolder:
    """The holder of ``token``, for the options: its account must be active."""
    hashed = token_hash(token)
    with transaction(services.engine) as conn:
        found = store.find_token(conn, store.REGISTRATION_PURPOSE, hashed)
        user = repo.get_user(conn, found.user_id) if found is not None else None
        live = found is not None and found.expires_at > services.clock()
        if user is None or not live or not user_state.is_active(conn, user.id):
            raise Unauthenticated(REFUSED)
    return TokenHolder(hashed, user.id, user.username, user.display_name)


def redeem(services: Services, conn: Connection, hashed: bytes, user_id: int) -> None:
    """Spend the token a registration result redeems, in its transaction; else refuse.

    The account must still be active: one disabled since the options gets no passkey.
    """
    taken = store.take_token(conn, store.REGISTRATION_PURPOSE, hashed)
    if taken is None or taken.user_id != user_id or taken.expires_at <= services.clock():
        raise Unauthenticated(REFUSED)
    if not user_state.is_active(conn, user_id):
        raise Unauthenticated(REFUSED)


def _issue(
    services: Services,
    conn: Connection,
    subject: Subject,
    *,
    username: str,
    display_name: str,
    issued_by: int | None,
    for_admins: bool,
) -> IssuedToken:
    """Find or make the account, then store a fresh token for it (replacing an older one)."""
    user = repo.get_user_by_username(conn, username)
    created = user is None
    if user is None:
        user = repo.create_user(
            conn,
            username=username,
            display_name=display_name or username,
            user_handle=secrets.token_bytes(USER_HANDLE_BYTES),
            created_at=services.now(),
        )
    elif not user_state.is_active(conn, user.id):
        raise Conflict("this account is disabled; enable it before issuing a token")
    elif user.role == "admin" and not for_admins:
        raise Forbidden("an app back end cannot issue a registration token for an admin")
    subject.user_id = user.id
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = services.clock() + services.settings.registration_token_ttl
    replaced = store.issue_token(
        conn,
        purpose=store.REGISTRATION_PURPOSE,
        user_id=user.id,
        token_hash=token_hash(token),
        now=services.now(),
        expires_at=expires_at,
        issued_by=issued_by,
    )
    subject.detail.update(created=created, expires_at=expires_at, replaced=replaced)
    return IssuedToken(token, expires_at, user.username, created)


def issue_by_admin(
    services: Services, actor: Actor, *, username: str, display_name: str
) -> IssuedToken:
    """An admin's token (step-up), audited as ``admin.registration_token.issued``."""

    def work(conn: Connection, subject: Subject) -> IssuedToken:
        return _issue(
            services,
            conn,
            subject,
            username=username,
            display_name=display_name,
            issued_by=actor.user_id,
            for_admins=True,
        )

    return run_admin(services, actor, "registration_token.issued", work, step_up=True)


def issue_by_backend(
    services: Services,
    caller: Caller,
    *,
    client_id: str,
    secret: str,
    username: str,
    display_name: str,
) -> IssuedToken:
    """An app back end's token, audited as ``registration_token.issued`` naming the app.

    A wrong client or secret is refused (``unauthenticated``) and audited too: the route's
    address rate limit bounds how many such rows anyone can add.
    """

    def work(conn: Connection, subject: Subject) -> IssuedToken:
        app = authenticate_backend(conn, client_id=client_id, secret=secret)
        if app is None:
            raise Unauthenticated(BACKEND_REFUSED)
        subject.detail["app"] = app.client_id
        return _issue(
            services,
            conn,
            subject,
            username=username,
            display_name=display_name,
            issued_by=None,
            for_admins=False,
        )

    return run_audited(services, "registration_token.issued", caller, work)
