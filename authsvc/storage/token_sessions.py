"""Token sessions and their refresh tokens: the ``token_sessions`` and ``refresh_tokens`` tables.

A token session (a *family*) is one sign-in of an app; each refresh replaces its refresh
token. Tokens are stored only as SHA-256, so whoever reads the database holds nothing that
refreshes. Rotation is decided by one conditional ``UPDATE … WHERE used_at IS NULL``: of
two requests presenting the same token, only one changes the row (PostgreSQL re-checks the
condition on the row it waited for; SQLite's ``BEGIN IMMEDIATE`` runs them one after the
other), and the other sees a used token.

Ending a session deletes its row; the cascade takes its tokens, and the foreign keys to the
user, the credential and the app client take it away with any of them. Each read that an
access token or a refresh needs is one indexed statement that also returns whether the user
and the credential are still active.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Final

from sqlalchemy import Connection, and_, delete, insert, or_, select, update
from sqlalchemy.sql import Select

from authsvc.storage.models import app_clients, credentials, refresh_tokens, token_sessions, users
from authsvc.storage.records import CredentialStatus, UserStatus
from authsvc.storage.sweeping import SweepSchedule
from authsvc.storage.user_state import SessionAccount, account_of

_SWEEPS: Final = SweepSchedule()


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenFamily:
    """One token session. Times are epoch seconds on the service clock."""

    id: int
    sid: str
    user_id: int
    credential_pk: int
    app_pk: int | None
    dpop_jkt: str | None
    amr: tuple[str, ...]
    signed_in_at: float
    verified_at: float | None
    expires_at: float
    refresh_expires_at: float
    client_address: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FamilyView:
    """A token session with what minting and authorising need from its user, passkey and app."""

    family: TokenFamily
    account: SessionAccount
    active: bool  # the user and the credential are both active
    user_handle: bytes
    credential_id: bytes
    client_id: str | None


@dataclass(frozen=True, slots=True)
class PresentedToken:
    """A refresh token found by its hash, and the session it belongs to."""

    view: FamilyView
    expires_at: float
    used_at: float | None


def _view_select() -> Select[Any]:
    return select(
        token_sessions,
        users.c.user_handle,
        users.c.username,
        users.c.display_name,
        users.c.role,
        users.c.status.label("user_status"),
        credentials.c.credential_id,
        credentials.c.status.label("credential_status"),
        app_clients.c.client_id,
    ).select_from(
        token_sessions.join(users, users.c.id == token_sessions.c.user_id)
        .join(credentials, credentials.c.id == token_sessions.c.credential_pk)
        .outerjoin(app_clients, app_clients.c.id == token_sessions.c.app_pk)
    )


_VIEW: Final = _view_select()


def _view(row: Any) -> FamilyView:
    family = TokenFamily(
        id=row.id,
        sid=row.sid,
        user_id=row.user_id,
        credential_pk=row.credential_pk,
        app_pk=row.app_pk,
        dpop_jkt=row.dpop_jkt,
        amr=tuple(row.amr.split()),
        signed_in_at=row.signed_in_at,
        verified_at=row.verified_at,
        expires_at=row.expires_at,
        refresh_expires_at=row.refresh_expires_at,
        client_address=row.client_address,
    )
    return FamilyView(
        family=family,
        account=account_of(row),
        active=row.user_status == UserStatus.ACTIVE
        and row.credential_status == CredentialStatus.ACTIVE,
        user_handle=bytes(row.user_handle),
        credential_id=bytes(row.credential_id),
        client_id=row.client_id,
    )


def add_family(conn: Connection, family: TokenFamily) -> TokenFamily:
    """Insert a new session (its ``id`` is ignored); sweep the expired ones now and then;
    return it with its row id."""
    now = family.signed_in_at
    if _SWEEPS.due(now):
        conn.execute(
            delete(token_sessions).where(
                or_(token_sessions.c.expires_at < now, token_sessions.c.refresh_expires_at < now)
            )
        )
    values = {f.name: getattr(family, f.name) for f in fields(family) if f.name != "id"}
    values["amr"] = " ".join(family.amr)
    inserted = conn.execute(insert(token_sessions).values(**values).returning(token_sessions.c.id))
    return replace(family, id=int(inserted.scalar_one()))


def add_refresh_token(
    conn: Connection, *, session_id: int, token_hash: bytes, expires_at: float
) -> None:
    conn.execute(
        insert(refresh_tokens).values(
            token_hash=token_hash, session_id=session_id, expires_at=expires_at
        )
    )


def presented(conn: Connection, token_hash: bytes) -> PresentedToken | None:
    """The refresh token with this hash and its session, used or not; None if unknown."""
    row = conn.execute(
        _VIEW.add_columns(
            refresh_tokens.c.expires_at.label("token_expires_at"), refresh_tokens.c.used_at
        )
        .join_from(
            token_sessions, refresh_tokens, refresh_tokens.c.session_id == token_sessions.c.id
        )
        .where(refresh_tokens.c.token_hash == token_hash)
    ).one_or_none()
    if row is None:
        return None
    return PresentedToken(_view(row), row.token_expires_at, row.used_at)


def spend(conn: Connection, token_hash: bytes, now: float) -> bool:
    """Mark the token used, if nobody has: True for the one request that did."""
    result = conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return int(result.rowcount) == 1


def rotated(conn: Connection, session_id: int, *, refresh_expires_at: float, now: float) -> None:
    """After a rotation: move the idle expiry; forget used tokens that would have expired."""
    conn.execute(
        update(token_sessions)
        .where(token_sessions.c.id == session_id)
        .values(refresh_expires_at=refresh_expires_at)
    )
    conn.execute(
        delete(refresh_tokens).where(
            and_(
                refresh_tokens.c.session_id == session_id,
                refresh_tokens.c.used_at.is_not(None),
                refresh_tokens.c.expires_at < now,
            )
        )
    )


def by_sid(conn: Connection, sid: str) -> FamilyView | None:
    """The session an access token names (one indexed statement through the unique sid)."""
    row = conn.execute(_VIEW.where(token_sessions.c.sid == sid)).one_or_none()
    return None if row is None else _view(row)


def revoke(conn: Connection, session_id: int) -> bool:
    result = conn.execute(delete(token_sessions).where(token_sessions.c.id == session_id))
    return int(result.rowcount) == 1


def revoke_sid(conn: Connection, sid: str) -> bool:
    result = conn.execute(delete(token_sessions).where(token_sessions.c.sid == sid))
    return int(result.rowcount) == 1


def revoke_user(conn: Connection, user_id: int) -> int:
    result = conn.execute(delete(token_sessions).where(token_sessions.c.user_id == user_id))
    return int(result.rowcount)


def revoke_credential(conn: Connection, credential_pk: int) -> int:
    result = conn.execute(
        delete(token_sessions).where(token_sessions.c.credential_pk == credential_pk)
    )
    return int(result.rowcount)
