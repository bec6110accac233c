"""Account recovery that is not a weak door: one-time codes, and an admin's one-time link.

Both end in a *recovered* session (:func:`authsvc.services.sessions.open_recovered_session`):
it may add a passkey, and nothing else that needs a step-up, until it signs in with one.
So a stolen code buys an attacker a new passkey on the account, never the account's
settings, its other passkeys or the admin API; and every use is in the audit log and in the
account's session list, where its owner sees it.

**Codes.** Ten per set, each 10 characters of RFC 4648 base32 (50 bits from the OS
CSPRNG), shown as ``ABCDE-FGHIJ``. Online guessing is bounded by the rate limits
(``RATE_LIMIT_RECOVERY_ACCOUNT``, default 20 a day per account and address): with ten live
codes, each guess wins with probability 10 / 2**50, so a million addresses guessing for a
year (7.3e9 tries) succeed against one account with probability about 7e-5, and any
success is then confined as above. Codes are stored as HMAC-SHA256 under a key derived
from ``SECRET_KEY``, over the user id and the code: a fast keyed hash is enough for
random 50-bit secrets, since a database dump without the key cannot test a single guess,
and a slow hash (scrypt) would hand every anonymous caller tens of milliseconds of our CPU
per request, on an endpoint whose point is that no session is needed.

**Uniform failure.** An unknown username, a disabled account, a wrong or used code all
answer the same ``unauthenticated`` problem after the same work (one user read, one HMAC,
one indexed code read, one audit row), so the answer tells a guesser nothing about which
names exist. The policy is consulted only once a right code was shown: ``policy_denied``
then reveals nothing the code's holder does not know.

**Links.** An admin, after verifying the person some other way, issues a link for their
account (step-up, audited, never their own account): a 256-bit token in the URL fragment
(fragments are not sent to servers, so it stays out of access logs and ``Referer``),
stored as SHA-256, single-use, bound to the account, short-lived (``RECOVERY_LINK_TTL``),
and replacing any earlier link of that account.

Using a code or a token deletes it: the delete decides, so two concurrent uses cannot both
succeed (:mod:`authsvc.storage.recovery`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Connection

from authsvc.errors import Conflict, PolicyDenied, Unauthenticated
from authsvc.policy.model import Policy, RecoveryReason
from authsvc.services.admin import Actor, run_admin
from authsvc.services.audited import Subject, run_audited
from authsvc.services.context import Caller, Services
from authsvc.services.policy import policy_for_user
from authsvc.services.sessions import (
    OpenedSession,
    current,
    open_recovered_session,
    publish,
    require_step_up,
)
from authsvc.storage import recovery as store
from authsvc.storage import repositories as repo
from authsvc.storage import user_state
from authsvc.storage.db import transaction
from authsvc.storage.records import UserStatus

CODES_PER_SET: Final = 10
CODE_CHARS: Final = 10  # of base32: 5 bits each, 50 bits a code
LINK_TOKEN_BYTES: Final = 32
RECOVERY_PATH: Final = "/recover"
_CODE_KEY_LABEL: Final = b"authsvc recovery-code key"
_NOT_A_CODE: Final = re.compile(r"[\s-]+")
#: the one answer to every failed code: it must not say which part was wrong
CODE_REFUSED: Final = "that username and recovery code do not match an unused code"
LINK_REFUSED: Final = "this recovery link is not valid: it was used, replaced or has expired"


def new_code() -> str:
    """A fresh code, e.g. ``K7QX2-MR4TA``: 50 bits, in two groups to read out and type."""
    raw = base64.b32encode(secrets.token_bytes(CODE_CHARS * 5 // 8)).decode("ascii")
    return f"{raw[:5]}-{raw[5:CODE_CHARS]}"


def normalise_code(typed: str) -> str:
    """What a person typed, as stored: case, spaces and dashes do not matter."""
    return _NOT_A_CODE.sub("", typed).upper()


def code_hash(services: Services, user_id: int, code: str) -> bytes:
    """HMAC-SHA256 of (user id, normalised code) under a key derived from ``SECRET_KEY``.

    The user id is in it, so a code is bound to its account; the key is not in the
    database, so a dump of ``recovery_codes`` cannot even test a guess.
    """
    key = hmac.new(services.settings.secret_key.encode(), _CODE_KEY_LABEL, hashlib.sha256)
    message = user_id.to_bytes(8, "big") + normalise_code(code).encode()
    return hmac.new(key.digest(), message, hashlib.sha256).digest()


def token_hash(token: str) -> bytes:
    """SHA-256 of a link's token: 256 random bits need no key and no slow hash."""
    return hashlib.sha256(token.encode()).digest()


def _refuse(policy: Policy, reason: RecoveryReason, what: str) -> PolicyDenied:
    return PolicyDenied(
        f"policy {policy.name} v{policy.version} does not allow {what}",
        reasons=[{"code": reason.value, "message": f"the group's policy turns {what} off"}],
    )


@dataclass(frozen=True, slots=True)
class CodeStatus:
    """What the account page shows: never a code, only how many are left."""

    remaining: int
    generated_at: datetime | None
    allowed: bool  # whether the user's policy lets them make and use codes


@dataclass(frozen=True, slots=True)
class GeneratedCodes:
    codes: list[str]
    generated_at: datetime


def code_status(services: Services, caller: Caller) -> CodeStatus:
    with transaction(services.engine) as conn:
        user_id = current(services, conn, caller).account.user_id
        remaining, made = store.code_status(conn, user_id)
        allowed = policy_for_user(services, conn, user_id).recovery_codes
    return CodeStatus(remaining, made, allowed)


def generate_codes(services: Services, caller: Caller) -> GeneratedCodes:
    """A new set of codes for the caller, replacing the whole old set; shown only now.

    An account change like any other: it needs a fresh step-up (which a recovered session
    never has), and the user's policy must allow codes.
    """

    def work(conn: Connection, subject: Subject) -> GeneratedCodes:
        session = current(services, conn, caller)
        user_id = session.account.user_id
        subject.user_id = subject.actor_user_id = user_id
        require_step_up(services, conn, user_id, session.record.verified_at)
        policy = policy_for_user(services, conn, user_id)
        if not policy.recovery_codes:
            raise _refuse(policy, RecoveryReason.RECOVERY_CODES_NOT_ALLOWED, "recovery codes")
        codes = [new_code() for _ in range(CODES_PER_SET)]
        now = services.now()
        replaced = store.replace_codes(
            conn, user_id, [code_hash(services, user_id, c) for c in codes], now
        )
        subject.detail.update(codes=len(codes), replaced=replaced)
        return GeneratedCodes(codes, now)

    return run_audited(services, "recovery.codes_generated", caller, work)


def use_code(
    services: Services, caller: Caller, *, username: str, code: str, user_agent: str | None
) -> OpenedSession:
    """Sign the caller in as ``username``'s recovered session, using up ``code``.

    Every failure before the code is known to be right is :data:`CODE_REFUSED`, after the
    same statements (see the module docstring). Then the policy, then the delete that
    decides a race.
    """

    def work(conn: Connection, subject: Subject) -> OpenedSession:
        user = repo.get_user_by_username(conn, username)
        subject.user_id = user.id if user is not None else None
        active = user_state.is_active(conn, user.id if user is not None else 0)
        user_id = user.id if user is not None and active else 0  # 0: no user has it
        hashed = code_hash(services, user_id, code)
        if not store.has_code(conn, user_id, hashed) or not user_id:
            raise Unauthenticated(CODE_REFUSED)
        policy = policy_for_user(services, conn, user_id)
        if not policy.recovery_codes:
            raise _refuse(policy, RecoveryReason.RECOVERY_CODES_NOT_ALLOWED, "recovery codes")
        if not store.take_code(conn, user_id, hashed):
            raise Unauthenticated(CODE_REFUSED)  # another request used it a moment ago
        subject.actor_user_id = user_id
        subject.detail["remaining"] = store.code_status(conn, user_id)[0]
        return open_recovered_session(
            services, conn, subject, caller=caller, user_agent=user_agent, user_id=user_id
        )

    opened = run_audited(services, "recovery.code_used", caller, work)
    publish(services, opened)  # on Redis, only now that the sign-in committed
    return opened


@dataclass(frozen=True, slots=True)
class IssuedLink:
    url: str
    expires_at: float  # epoch seconds


def _recovery_page(services: Services) -> str:
    """Where the link points: the recovery page on the first web origin."""
    for origin in services.settings.origins:
        if origin.startswith(("https://", "http://")):
            return origin + RECOVERY_PATH
    raise Conflict("no web origin is configured, so there is no page for a recovery link")


def issue_link(services: Services, actor: Actor, user_id: int) -> IssuedLink:
    """An admin's one-time registration link for ``user_id``, replacing any earlier one.

    Admin only, with a step-up, never for the admin's own account (another admin must
    verify them), for an active user whose policy allows links; audited as
    ``admin.recovery.link_issued``. The token is only in the returned URL.
    """

    def work(conn: Connection, subject: Subject) -> IssuedLink:
        if user_state.status(conn, user_id) != UserStatus.ACTIVE:  # NotFound for no such user
            raise Conflict("this account is disabled; enable it before issuing a link")
        policy = policy_for_user(services, conn, user_id)
        if not policy.recovery_links:
            raise _refuse(policy, RecoveryReason.RECOVERY_LINKS_NOT_ALLOWED, "recovery links")
        page = _recovery_page(services)
        token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
        expires_at = services.clock() + services.settings.recovery_link_ttl
        replaced = store.issue_token(
            conn,
            purpose=store.RECOVERY_LINK,
            user_id=user_id,
            token_hash=token_hash(token),
            now=services.now(),
            expires_at=expires_at,
            issued_by=actor.user_id,
        )
        subject.detail.update(expires_at=expires_at, replaced=replaced)
        return IssuedLink(f"{page}#{token}", expires_at)

    return run_admin(
        services, actor, "recovery.link_issued", work, step_up=True, target_user_id=user_id
    )


def use_link(
    services: Services, caller: Caller, *, token: str, user_agent: str | None
) -> OpenedSession:
    """Redeem a recovery link's token: a recovered session for the account it is bound to.

    The token is deleted first, whatever follows, so a link is tried once: expired, for a
    disabled account, or refused by a policy tightened since it was issued, it is gone.
    """

    def work(conn: Connection, subject: Subject) -> OpenedSession:
        taken = store.take_token(conn, store.RECOVERY_LINK, token_hash(token))
        if taken is None:
            raise Unauthenticated(LINK_REFUSED)
        subject.user_id = taken.user_id
        if taken.expires_at <= services.clock() or not user_state.is_active(conn, taken.user_id):
            raise Unauthenticated(LINK_REFUSED)
        policy = policy_for_user(services, conn, taken.user_id)
        if not policy.recovery_links:
            raise _refuse(policy, RecoveryReason.RECOVERY_LINKS_NOT_ALLOWED, "recovery links")
        subject.actor_user_id = taken.user_id
        return open_recovered_session(
            services, conn, subject, caller=caller, user_agent=user_agent, user_id=taken.user_id
        )

    opened = run_audited(services, "recovery.link_used", caller, work)
    publish(services, opened)  # on Redis, only now that the sign-in committed
    return opened
