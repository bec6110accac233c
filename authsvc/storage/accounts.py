"""What admins change about accounts: roles, group membership, credential status.

Kept apart from :mod:`authsvc.storage.repositories`, which holds the ceremonies' own
statements: these run only behind the admin API, never on a sign-in.

The last-admin rule (:func:`other_active_admins`) locks what it counts: ``FOR UPDATE`` on
PostgreSQL; on SQLite every writing transaction already runs alone (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from authsvc.errors import NotFound
from authsvc.storage.credential_rows import CREDENTIAL_COLUMNS, CREDENTIALS, credential_record
from authsvc.storage.models import credentials, groups, users
from authsvc.storage.policies import DEFAULT_GROUP_ID
from authsvc.storage.records import (
    CREDENTIAL_STATUSES,
    ROLES,
    CredentialRecord,
    CredentialStatus,
    Role,
    UserStatus,
)
from authsvc.usernames import canonical

__all__ = ["CREDENTIAL_STATUSES", "ROLES"]  # the web layer's input checks read them here


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSummary:
    id: int
    username: str
    display_name: str
    role: Role
    status: UserStatus
    group: str
    credentials: int
    created_at: datetime


_CREDENTIAL_COUNT = (
    select(func.count(credentials.c.id))
    .where(credentials.c.user_id == users.c.id)
    .scalar_subquery()
)
_USERS = select(
    users.c.id,
    users.c.username,
    users.c.display_name,
    users.c.role,
    users.c.status,
    groups.c.name.label("group"),
    _CREDENTIAL_COUNT.label("credentials"),
    users.c.created_at,
).join_from(users, groups, groups.c.id == func.coalesce(users.c.group_id, DEFAULT_GROUP_ID))


def _summary(row: Any) -> UserSummary:
    return UserSummary(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        status=UserStatus(row.status),
        group=row.group,
        credentials=row.credentials,
        created_at=row.created_at,
    )


def list_users(conn: Connection, *, after_id: int = 0, limit: int = 100) -> list[UserSummary]:
    rows = conn.execute(_USERS.where(users.c.id > after_id).order_by(users.c.id).limit(limit))
    return [_summary(r) for r in rows]


def user_summary(conn: Connection, user_id: int) -> UserSummary:
    row = conn.execute(_USERS.where(users.c.id == user_id)).one_or_none()
    if row is None:
        raise NotFound("no such user")
    return _summary(row)


def user_by_username(conn: Connection, username: str) -> UserSummary | None:
    """The user with this username in canonical form (``FOLD-x`` finds ``fold-x``)."""
    found = _USERS.where(users.c.username_canonical == canonical(username))
    row = conn.execute(found).one_or_none()
    return None if row is None else _summary(row)


def other_active_admins(conn: Connection, user_id: int) -> int:
    """How many active admins there are besides ``user_id``, with every admin row locked.

    Call it in the transaction that demotes or disables ``user_id``, before the change:
    the count and the change are then one decision. Two admins demoting each other at once
    queue on the locks (taken in id order, so they cannot deadlock), and the second one,
    re-reading after the first commits, sees one admin fewer and is refused. A disabled
    admin can sign nothing in, so it does not count as remaining.
    """
    rows = conn.execute(
        select(users.c.id)
        .where(users.c.role == Role.ADMIN.value, users.c.status == UserStatus.ACTIVE.value)
        .order_by(users.c.id)
        .with_for_update()
    )
    return sum(1 for row in rows if row.id != user_id)


def set_role(conn: Connection, user_id: int, role: str) -> None:
    """Set a :class:`Role` (by member or value); ValueError for any other string, which the
    callers' input checks have refused before. NotFound for no such user."""
    changed = update(users).where(users.c.id == user_id).values(role=Role(role).value)
    if conn.execute(changed).rowcount != 1:
        raise NotFound("no such user")


def set_group(conn: Connection, user_id: int, group_id: int | None) -> None:
    result = conn.execute(update(users).where(users.c.id == user_id).values(group_id=group_id))
    if result.rowcount != 1:
        raise NotFound("no such user")


_CREDENTIALS = select(*CREDENTIAL_COLUMNS).select_from(CREDENTIALS)


def list_credentials(
    conn: Connection, *, user_id: int | None = None, after_id: int = 0, limit: int = 100
) -> list[CredentialRecord]:
    query = _CREDENTIALS.where(credentials.c.id > after_id)
    if user_id is not None:
        query = query.where(credentials.c.user_id == user_id)
    rows = conn.execute(query.order_by(credentials.c.id).limit(limit))
    return [credential_record(r) for r in rows]


def credential_by_pk(conn: Connection, pk: int) -> CredentialRecord:
    row = conn.execute(_CREDENTIALS.where(credentials.c.id == pk)).one_or_none()
    if row is None:
        raise NotFound("no such credential")
    return credential_record(row)


def credentials_in_groups(conn: Connection, group_ids: list[int]) -> list[CredentialRecord]:
    """Every credential of the users in these groups (no group = the default group)."""
    rows = conn.execute(
        _CREDENTIALS.where(
            func.coalesce(users.c.group_id, DEFAULT_GROUP_ID).in_(group_ids)
        ).order_by(credentials.c.id)
    )
    return [credential_record(r) for r in rows]


def set_credential_status(conn: Connection, pk: int, status: str) -> None:
    """Set a :class:`CredentialStatus` (by member or value); ValueError for any other
    string, which the callers' input checks have refused before. NotFound for no such
    credential."""
    changed = update(credentials).where(credentials.c.id == pk)
    result = conn.execute(changed.values(status=CredentialStatus(status).value))
    if result.rowcount != 1:
        raise NotFound("no such credential")


def flag_credential(conn: Connection, pk: int, at: datetime) -> None:
    conn.execute(update(credentials).where(credentials.c.id == pk).values(flagged_at=at))


def delete_credential(conn: Connection, pk: int) -> CredentialRecord:
    record = credential_by_pk(conn, pk)
    conn.execute(delete(credentials).where(credentials.c.id == pk))
    return record
