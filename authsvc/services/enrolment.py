"""Who may add a passkey to an existing account: asked at the options and again at the result.

Adding a passkey is an account change, so the account's holder must vouch for it. On the
web that is the cookie session that asked for the options, still live and signed in as
the account, with a fresh step-up (:class:`CookieHolder`, re-read in the ceremony's own
transaction). Over ``/api/v1`` it may also be a token session (:class:`RecordHolder`,
the session its access token names, as this request's sign-in found it), or a one-time
registration token (:mod:`authsvc.services.registration_tokens`), which stands in for a
session the account does not have yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection

from authsvc.services.context import Services
from authsvc.services.sessions import live_session, require_step_up_to_add_passkey
from authsvc.storage.sessions import SessionRecord


class AccountHolder(Protocol):
    """Whoever the request says is adding the passkey."""

    @property
    def allows_sign_up(self) -> bool:
        """Whether a username nobody has yet may be registered (a web sign-up)."""
        ...

    @property
    def redeems(self) -> bytes | None:
        """The SHA-256 of the registration token the result must redeem, if any."""
        ...

    def vouch(self, services: Services, conn: Connection, user_id: int) -> bool:
        """Whether this holder is ``user_id``'s: False if not (or no longer) signed in as
        them; raises StepUpRequired when signed in as them without a fresh step-up (or
        Unauthenticated for a spent registration token)."""
        ...


@dataclass(frozen=True, slots=True)
class CookieHolder:
    """The cookie session whose binding is ``binding``, re-read in the ceremony's transaction."""

    binding: str
    allows_sign_up: bool = True
    redeems: bytes | None = None

    def vouch(self, services: Services, conn: Connection, user_id: int) -> bool:
        session = live_session(services, conn, self.binding)
        if session is None or session.user_id != user_id:
            return False
        require_step_up_to_add_passkey(services, conn, session)
        return True


@dataclass(frozen=True, slots=True)
class RecordHolder:
    """A session this request was signed in by (a token session), as its loader read it.

    The loader checked it live, with its user and passkey active, moments ago in this
    request; its ``verified_at`` is what step-up is judged on.
    """

    record: SessionRecord
    allows_sign_up: bool = False
    redeems: bytes | None = None

    def vouch(self, services: Services, conn: Connection, user_id: int) -> bool:
        if self.record.user_id != user_id:
            return False
        require_step_up_to_add_passkey(services, conn, self.record)
        return True


@dataclass(frozen=True, slots=True)
class NoHolder:
    """A request signed in by nothing: it may add a passkey to no account."""

    allows_sign_up: bool = False
    redeems: bytes | None = None

    def vouch(self, services: Services, conn: Connection, user_id: int) -> bool:
        del services, conn, user_id
        return False
