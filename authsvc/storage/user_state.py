"""A user's status and passkey names, and the reads that guard account changes and every
signed-in request.

The guard that must hold under concurrency locks what it counts: ``FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already makes every writing transaction run alone.
So two registrations racing for an account's last free passkey slot are decided one after
the other. (The last-admin rule is :func:`authsvc.storage.accounts.other_active_admins`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, bindparam, func, select, update

from authsvc.errors import NotFound
from authsvc.storage.models import credentials, users
from authsvc.storage.prepared import Prepared
from authsvc.storage.records import USER_STATUSES, CredentialStatus, Role, UserStatus

__all__ = ["USER_STATUSES"]  # the web layer's input check reads it here


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionAccount:
    """Who a live session belongs to, as the web layer shows and authorises them."""

    user_id: int
    username: str
    display_name: str
    role: Role


#: the columns a :class:`SessionAccount` is read from, whatever the statement joins
ACCOUNT_COLUMNS: Final = (
    users.c.id.label("user_id"),
    users.c.username,
    users.c.display_name,
    users.c.role,
)


def account_of(row: Any) -> SessionAccount:
    """The account in a row holding :data:`ACCOUNT_COLUMNS` (or a ``user_id`` beside them)."""
    return SessionAccount(
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
    )


_SESSION_ACCOUNT: Final = (
    select(*ACCOUNT_COLUMNS)
    .join_from(users, credentials, credentials.c.user_id == users.c.id)
    .where(
        users.c.status == UserStatus.ACTIVE.value,
        credentials.c.status == CredentialStatus.ACTIVE.value,
    )
)


def session_account(conn: Connection, user_id: int, credential_pk: int) -> SessionAccount | None:
    """The account, if both it and the credential that signed the session in are active.

    One indexed statement per signed-in request: revocation deletes sessions, and this
    check also refuses any that a race with a disable left behind.
    """
    row = conn.execute(
        _SESSION_ACCOUNT.where(users.c.id == user_id, credentials.c.id == credential_pk)
    ).one_or_none()
    return None if row is None else account_of(row)


def status(conn: Connection, user_id: int) -> UserStatus:
    """A user's status; raises NotFound for no such user."""
    found = conn.execute(select(users.c.status).where(users.c.id == user_id)).scalar()
    if found is None:
        raise NotFound("no such user")
    return UserStatus(found)


_STATUS: Final = Prepared(select(users.c.status).where(users.c.id == bindparam("b_id")))


def is_active(conn: Connection, user_id: int) -> bool:
    """Whether the user may sign in: one primary-key read on the sign-in path."""
    row = _STATUS.fetchone(conn, {"b_id": user_id})
    return row is not None and row[0] == UserStatus.ACTIVE


def set_status(conn: Connection, user_id: int, new: str) -> UserStatus:
    """Set a :class:`UserStatus` (by member or value; ValueError for any other string, which
    the callers' input checks have refused before); return the previous one. Raises
    NotFound for no such user."""
    wanted = UserStatus(new)
    previous = status(conn, user_id)
    conn.execute(update(users).where(users.c.id == user_id).values(status=wanted.value))
    return previous


def rename_credential(conn: Connection, credential_pk: int, name: str | None) -> None:
    conn.execute(update(credentials).where(credentials.c.id == credential_pk).values(name=name))


def active_credential_count(conn: Connection, user_id: int) -> int:
    count = conn.execute(
        select(func.count(credentials.c.id)).where(
            credentials.c.user_id == user_id,
            credentials.c.status == CredentialStatus.ACTIVE.value,
        )
    ).scalar_one()
    return int(count)


def credential_count(conn: Connection, user_id: int) -> int:
    """How many credentials (of any status) a user has, with the user's row locked.

    Called right before a credential is added, so the count and the insert are one
    decision: a concurrent registration for the same user waits for this one.
    """
    conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
    count = conn.execute(
        select(func.count(credentials.c.id)).where(credentials.c.user_id == user_id)
    ).scalar_one()
    return int(count)
