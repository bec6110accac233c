"""Signed-in web sessions: opened by a ceremony, checked on every request, ended on purpose.

The browser holds only an opaque random id; everything the service knows of the session
is a :class:`~authsvc.storage.sessions.SessionRecord` under the id's SHA-256. That hash,
in hex, is also the session's ceremony *binding*, so a visitor who has not signed in binds
ceremonies with the id alone and never makes a record: a flood of anonymous requests
cannot grow the store.

A session is usable while it is within its absolute lifetime (from sign-in) and its idle
timeout (from ``last_seen_at``, which is written at most once a minute, so it may end up to
that much early, never late), and while its user and the credential that signed it in are
active. Each sign-in and step-up replaces the record under a new id (rotation), so an id
planted or seen before cannot be used after.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy import Connection

from authsvc.errors import NotFound, StepUpRequired, Unauthenticated
from authsvc.policy.evaluate import step_up_fresh
from authsvc.services.audited import Subject, audited
from authsvc.services.context import Caller, Services
from authsvc.services.policy import policy_for_user
from authsvc.services.tokens import session_record, token_sid
from authsvc.storage import recovery, token_sessions, user_state
from authsvc.storage.db import transaction
from authsvc.storage.sessions import SessionRecord
from authsvc.storage.user_state import SessionAccount

TOKEN_BYTES: Final = 32
#: ``last_seen_at`` is refreshed at most this often (seconds), so a busy session does not
#: write on every request
REFRESH_INTERVAL: Final = 60.0
USER_AGENT_CHARS: Final = 255  # the column's width
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)  # 32 bytes in base64url
_BINDING: Final = re.compile(r"[0-9a-f]{64}", re.ASCII)


def new_token() -> str:
    """A fresh opaque session id: 32 bytes from the OS CSPRNG, base64url."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_token(value: str | None) -> bool:
    """Whether ``value`` has the shape of an id we issue (anything else is ignored)."""
    return value is not None and _TOKEN.fullmatch(value) is not None


def binding_of(token: str) -> str:
    """The session's ceremony binding and store key: SHA-256 of the id, in hex."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _key(binding: str) -> bytes | None:
    return bytes.fromhex(binding) if _BINDING.fullmatch(binding) else None


def usable(services: Services, record: SessionRecord, now: float) -> bool:
    """Within the absolute lifetime and the idle timeout."""
    idle = services.settings.session_idle_timeout
    return now < record.expires_at and now - record.last_seen_at < idle


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A session a ceremony just signed in: the id for the cookie, and its record."""

    token: str
    record: SessionRecord


@dataclass(frozen=True, slots=True)
class CurrentSession:
    """The caller's live session and whose it is."""

    record: SessionRecord
    account: SessionAccount


def open_session(
    services: Services,
    conn: Connection,
    subject: Subject,
    *,
    caller: Caller,
    user_agent: str | None,
    user_id: int,
    credential_pk: int,
    user_verified: bool,
) -> OpenedSession:
    """Sign the caller's session in as ``user_id``, under a new id; in ``conn``'s transaction.

    The caller's previous record, if any, is taken out first. If it was a live session of
    the same user this is a *step-up*: the sign-in time, lifetime and signing-in credential
    carry over and only the verification time moves (when this assertion had UV).
    Otherwise it is a fresh sign-in (a session of another user is ended by it). On Redis
    the new record is written by :func:`publish`, after the commit.
    """
    now = services.clock()
    key = _key(caller.binding)
    previous = services.sessions.take(conn, key) if key is not None else None
    token = new_token()
    id_hash = hashlib.sha256(token.encode("ascii")).digest()
    if previous is not None and previous.user_id == user_id and usable(services, previous, now):
        record = replace(
            previous,
            id_hash=id_hash,
            verified_at=now if user_verified else previous.verified_at,
            last_seen_at=now,
            client_address=caller.client_address,
            user_agent=_truncate(user_agent),
        )
        subject.detail["step_up"] = True
        if previous.recovered:
            # the first passkey sign-in on a recovered session is its real sign-in: from
            # now on it is an ordinary session of that passkey
            record = replace(
                record, recovered=False, credential_pk=credential_pk, user_verified=user_verified
            )
            subject.detail["recovery_cleared"] = True
        ended = None
    else:
        record = _fresh_record(
            services,
            id_hash,
            now,
            caller=caller,
            user_agent=user_agent,
            user_id=user_id,
            credential_pk=credential_pk,
            user_verified=user_verified,
        )
        ended = previous
    return _store(services, conn, subject, token, record, ended=ended)


def open_recovered_session(
    services: Services,
    conn: Connection,
    subject: Subject,
    *,
    caller: Caller,
    user_agent: str | None,
    user_id: int,
) -> OpenedSession:
    """Sign the caller's session in as ``user_id`` by recovery; in ``conn``'s transaction.

    Always a new session, under a new id, whatever the caller had before (that record is
    ended). It is ``recovered``, has no credential and no user verification, so every
    step-up check refuses it except the one for adding a passkey
    (:func:`require_step_up_to_add_passkey`); its first passkey sign-in clears the flag.
    """
    now = services.clock()
    key = _key(caller.binding)
    previous = services.sessions.take(conn, key) if key is not None else None
    token = new_token()
    record = _fresh_record(
        services,
        hashlib.sha256(token.encode("ascii")).digest(),
        now,
        caller=caller,
        user_agent=user_agent,
        user_id=user_id,
        credential_pk=None,
        user_verified=False,
        recovered=True,
    )
    return _store(services, conn, subject, token, record, ended=previous)


def _fresh_record(
    services: Services,
    id_hash: bytes,
    now: float,
    *,
    caller: Caller,
    user_agent: str | None,
    user_id: int,
    credential_pk: int | None,
    user_verified: bool,
    recovered: bool = False,
) -> SessionRecord:
    """A session that starts now: its lifetime runs from this sign-in."""
    return SessionRecord(
        id_hash=id_hash,
        user_id=user_id,
        credential_pk=credential_pk,
        user_verified=user_verified,
        signed_in_at=now,
        verified_at=now if user_verified else None,
        last_seen_at=now,
        expires_at=now + services.settings.session_lifetime,
        client_address=caller.client_address,
        user_agent=_truncate(user_agent),
        recovered=recovered,
    )


def _store(
    services: Services,
    conn: Connection,
    subject: Subject,
    token: str,
    record: SessionRecord,
    *,
    ended: SessionRecord | None,
) -> OpenedSession:
    """Add the new record; the audit detail names it and the session it replaced, if any."""
    if ended is not None:
        subject.detail["ended_session"] = ended.public_id
    services.sessions.add(conn, record)
    subject.detail["session"] = record.public_id
    return OpenedSession(token, record)


def publish(services: Services, opened: OpenedSession | None) -> None:
    """Store a just-committed session where the store cannot join the transaction (Redis)."""
    if opened is not None:
        services.sessions.publish(opened.record)


def _truncate(user_agent: str | None) -> str | None:
    return user_agent[:USER_AGENT_CHARS] if user_agent else None


def live_session(services: Services, conn: Connection, binding: str) -> SessionRecord | None:
    """The binding's session record, if it is still usable (read in ``conn``'s transaction)."""
    key = _key(binding)
    record = services.sessions.get(conn, key) if key is not None else None
    if record is None or not usable(services, record, services.clock()):
        return None
    return record


def load(services: Services, binding: str) -> CurrentSession | None:
    """The session behind a request's cookie, checked as every request needs it.

    An expired record, or one whose user or credential is no longer active, is deleted
    here and the request is treated as anonymous. ``last_seen_at`` is moved when it is
    more than :data:`REFRESH_INTERVAL` old.
    """
    key = _key(binding)
    if key is None:
        return None
    now = services.clock()
    with transaction(services.engine) as conn:
        record = services.sessions.get(conn, key)
        if record is None:
            return None
        account = _account(conn, record) if usable(services, record, now) else None
        if account is None:
            services.sessions.take(conn, key)
            return None
        if now - record.last_seen_at >= REFRESH_INTERVAL:
            services.sessions.touch(conn, record, now)
            record = replace(record, last_seen_at=now)
    return CurrentSession(record, account)


def current(services: Services, conn: Connection, caller: Caller) -> CurrentSession:
    """The caller's live session, re-read in ``conn``'s transaction; else Unauthenticated.

    A token request's caller (:func:`authsvc.services.tokens.token_binding`) has its token
    session, shown as a session record: its user, its passkey, its last verification.
    """
    sid = token_sid(caller.binding)
    if sid is not None:
        return _token_session(services, conn, sid)
    record = live_session(services, conn, caller.binding)
    account = _account(conn, record) if record is not None else None
    if record is None or account is None:
        raise Unauthenticated("sign in first")
    return CurrentSession(record, account)


def _token_session(services: Services, conn: Connection, sid: str) -> CurrentSession:
    now = services.clock()
    view = token_sessions.by_sid(conn, sid)
    if view is None or not view.active or now >= view.family.expires_at:
        raise Unauthenticated("sign in first")
    return CurrentSession(session_record(view, now), view.account)


def _account(conn: Connection, record: SessionRecord) -> SessionAccount | None:
    """Whose session it is, if the user (and the credential that signed it in) are active."""
    if record.credential_pk is None:
        return recovery.recovered_account(conn, record.user_id)
    return user_state.session_account(conn, record.user_id, record.credential_pk)


def require_step_up_to_add_passkey(
    services: Services, conn: Connection, session: SessionRecord
) -> None:
    """The step-up rule for adding a passkey, which a recovered session meets.

    Recovery exists so that someone who lost every passkey can get a new one: the code or
    the admin's link was the proof. Nothing else accepts a recovered session (it has no
    ``verified_at``), so what recovery gets is exactly one new passkey's worth of access.
    """
    if not session.recovered:
        require_step_up(services, conn, session.user_id, session.verified_at)


def require_step_up(
    services: Services, conn: Connection, user_id: int, verified_at: float | None
) -> None:
    """Refuse unless ``verified_at`` (a UV assertion on this session) is within the window.

    The window is the acting user's own policy's ``step_up_max_age_seconds``.
    """
    policy = policy_for_user(services, conn, user_id)
    if verified_at is None or not step_up_fresh(policy, age_seconds=services.clock() - verified_at):
        raise StepUpRequired(
            "sign in again with user verification (within "
            f"{policy.step_up_max_age_seconds} s) to do this"
        )


def end_credential_sessions(
    services: Services, conn: Connection, credential_pk: int, subject: Subject
) -> None:
    """End every session ``credential_pk`` signed in (it was disabled, locked or deleted).

    Its token sessions too: their refresh tokens stop working and our API refuses their
    access tokens at once.
    """
    subject.detail["sessions_ended"] = services.sessions.revoke_credential(conn, credential_pk)
    subject.detail["token_sessions_ended"] = token_sessions.revoke_credential(conn, credential_pk)


def end_user_sessions(services: Services, conn: Connection, user_id: int, subject: Subject) -> None:
    subject.detail["sessions_ended"] = services.sessions.revoke_user(conn, user_id)
    subject.detail["token_sessions_ended"] = token_sessions.revoke_user(conn, user_id)


def sign_out(services: Services, caller: Caller) -> None:
    """End the caller's own session (``POST /logout``, ``DELETE /api/v1/sessions/current``)."""
    with audited(services, "session.sign_out", caller) as (conn, subject):
        session = current(services, conn, caller)
        subject.user_id = subject.actor_user_id = session.account.user_id
        sid = token_sid(caller.binding)
        if sid is None:
            services.sessions.take(conn, session.record.id_hash)
            subject.detail["session"] = session.record.public_id
        else:  # a token request ends its token session: refresh tokens and access tokens
            token_sessions.revoke_sid(conn, sid)
            subject.detail["token_session"] = sid


def list_own(services: Services, caller: Caller) -> tuple[CurrentSession, list[SessionRecord]]:
    """The caller's session and every session of the same user."""
    with transaction(services.engine) as conn:
        session = current(services, conn, caller)
        now = services.clock()
        found = services.sessions.of_user(conn, session.account.user_id)
    return session, [r for r in found if usable(services, r, now)]


def revoke_own(services: Services, caller: Caller, public_id: str) -> bool:
    """End one of the caller's user's sessions by its public id; True if it was the caller's."""
    with audited(services, "session.revoke", caller) as (conn, subject):
        session = current(services, conn, caller)
        subject.user_id = subject.actor_user_id = session.account.user_id
        subject.detail["session"] = public_id
        for record in services.sessions.of_user(conn, session.account.user_id):
            if secrets.compare_digest(record.public_id, public_id):
                services.sessions.take(conn, record.id_hash)
                return record.id_hash == session.record.id_hash
        raise NotFound("no such session")


def revoke_all_own(services: Services, caller: Caller) -> None:
    """Sign the caller's user out everywhere, this session included."""
    with audited(services, "session.revoke_all", caller) as (conn, subject):
        session = current(services, conn, caller)
        subject.user_id = subject.actor_user_id = session.account.user_id
        end_user_sessions(services, conn, session.account.user_id, subject)
