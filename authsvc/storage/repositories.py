"""Users and credentials: Core statements on the caller's connection, frozen records out.

Each function runs in the transaction of the :class:`~sqlalchemy.Connection` it is given,
so a ceremony's writes, its challenge consumption and its audit record commit together.
Statements are built once, at import, and executed with bound parameters: SQLAlchemy then
reuses their compiled form, and the sign-in path costs one indexed SELECT and one UPDATE.

A uniqueness clash is turned into the domain error inside a SAVEPOINT: on PostgreSQL a
failed statement would otherwise poison the whole transaction, and the caller still has to
commit the consumed challenge and the audit record of the failure.

Usernames are looked up, and kept unique, by their RFC 8265 canonical form
(:func:`authsvc.usernames.canonical`), which these functions compute from whatever form
they are given: no caller can compare the typed form by mistake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Row, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from authsvc.errors import Conflict, CredentialExcluded
from authsvc.storage.credential_rows import (
    CREDENTIAL_COLUMNS,
    CREDENTIALS,
    credential_record,
    new_credential_values,
)
from authsvc.storage.models import credentials, users
from authsvc.storage.prepared import Prepared
from authsvc.storage.records import CredentialRecord, NewCredential, Role, UserRecord, UserStatus
from authsvc.usernames import canonical

_USER_COLUMNS: Final = (
    users.c.id,
    users.c.username,
    users.c.display_name,
    users.c.user_handle,
    users.c.created_at,
    users.c.role,
    users.c.group_id,
    users.c.status,
)
_GET_USER: Final = select(*_USER_COLUMNS).where(users.c.id == bindparam("b_id"))
_GET_USER_BY_USERNAME: Final = select(*_USER_COLUMNS).where(
    users.c.username_canonical == bindparam("b_canonical")
)
_USER_TAKEN: Final = (
    select(users.c.id)
    .where(
        or_(
            users.c.username_canonical == bindparam("b_canonical"),
            users.c.user_handle == bindparam("b_handle"),
        )
    )
    .limit(1)
)
_INSERT_USER: Final = insert(users).returning(*_USER_COLUMNS)

_SELECT_CREDENTIALS: Final = select(*CREDENTIAL_COLUMNS).select_from(CREDENTIALS)
_LIST_CREDENTIALS: Final = _SELECT_CREDENTIALS.where(
    credentials.c.user_id == bindparam("b_user_id")
).order_by(credentials.c.id)
# The login lookup, on the unique index on credential_id, then the user's and group's
# primary keys; with the options' read by username, run through Prepared (see
# authsvc.storage.prepared) with typed results, so the rows read as SQLAlchemy's do.
_GET_CREDENTIAL: Final = Prepared(
    _SELECT_CREDENTIALS.where(credentials.c.credential_id == bindparam("b_credential_id")),
    typed_results=True,
)
# A disabled account lists no credentials, so its options are the decoys an unknown
# username gets (the result refuses it anyway, by credential id).
_SIGN_IN_BY_USERNAME: Final = Prepared(
    _SELECT_CREDENTIALS.where(users.c.username_canonical == bindparam("b_canonical"))
    .where(users.c.status == UserStatus.ACTIVE.value)
    .order_by(credentials.c.id),
    typed_results=True,
)
_CREDENTIAL_EXISTS: Final = select(credentials.c.id).where(
    credentials.c.credential_id == bindparam("b_credential_id")
)
_INSERT_CREDENTIAL: Final = insert(credentials).returning(credentials.c.id)
# Compare-and-set: only the sign-in that read the current counter may move it.
_RECORD_USE: Final = Prepared(
    update(credentials)
    .where(credentials.c.id == bindparam("b_id"))
    .where(credentials.c.sign_count == bindparam("b_old"))
    .values(
        sign_count=bindparam("b_new"),
        backed_up=bindparam("b_backed_up"),
        last_used_at=bindparam("b_at"),
    )
)


def get_user(conn: Connection, user_id: int) -> UserRecord | None:
    row = conn.execute(_GET_USER, {"b_id": user_id}).one_or_none()
    return None if row is None else _user(row)


def get_user_by_username(conn: Connection, username: str) -> UserRecord | None:
    """The user whose username is the same as ``username`` in canonical form, if any.

    Raises :class:`~authsvc.errors.Malformed` for a string that is no username at all.
    """
    row = conn.execute(_GET_USER_BY_USERNAME, {"b_canonical": canonical(username)}).one_or_none()
    return None if row is None else _user(row)


def create_user(
    conn: Connection,
    *,
    username: str,
    display_name: str,
    user_handle: bytes,
    created_at: datetime,
) -> UserRecord:
    """Insert a user; raise :class:`Conflict` if the username or user handle is taken.

    ``username`` is kept as given (it is what is shown); it is taken if any user has the
    same canonical form. On a clash only the savepoint is rolled back; the caller's
    transaction goes on.
    """
    username_canonical = canonical(username)
    values = {
        "username": username,
        "username_canonical": username_canonical,
        "display_name": display_name,
        "user_handle": user_handle,
        "created_at": created_at,
    }
    try:
        with conn.begin_nested():
            row = conn.execute(_INSERT_USER, values).one()
    except IntegrityError as exc:
        taken = conn.execute(
            _USER_TAKEN, {"b_canonical": username_canonical, "b_handle": user_handle}
        )
        if taken.first() is not None:
            raise Conflict("this username is already registered") from exc
        raise
    return _user(row)


def sign_in_credential(conn: Connection, credential_id: bytes) -> CredentialRecord | None:
    """The sign-in lookup: the credential with this id, its user and group, in one indexed
    statement."""
    row = _GET_CREDENTIAL.fetchone(conn, {"b_credential_id": credential_id})
    return None if row is None else credential_record(row)


#: the same lookup under the name ``services.registration.stored_credential`` still calls;
#: it goes when that calls :func:`sign_in_credential`


def list_credentials(conn: Connection, user_id: int) -> list[CredentialRecord]:
    """All of a user's credentials, whatever their status, oldest first."""
    rows = conn.execute(_LIST_CREDENTIALS, {"b_user_id": user_id})
    return [credential_record(row) for row in rows]


def sign_in_credentials(conn: Connection, username: str) -> list[CredentialRecord]:
    """An active user's credentials by username (canonical form), in one statement (sign-in
    options); none for a disabled user."""
    rows = _SIGN_IN_BY_USERNAME.fetchall(conn, {"b_canonical": canonical(username)})
    return [credential_record(row) for row in rows]


def add_credential(conn: Connection, new: NewCredential) -> int:
    """Store a credential and return its primary key.

    Raises :class:`CredentialExcluded` if the credential id is registered already (to this
    or any other user); only the savepoint is rolled back.
    """
    values = new_credential_values(new)
    try:
        with conn.begin_nested():
            pk: int = conn.execute(_INSERT_CREDENTIAL, values).scalar_one()
    except IntegrityError as exc:
        existing = conn.execute(_CREDENTIAL_EXISTS, {"b_credential_id": new.credential_id})
        if existing.first() is not None:
            raise CredentialExcluded from exc
        raise
    return pk


def record_use(
    conn: Connection,
    *,
    credential_pk: int,
    old_sign_count: int,
    new_sign_count: int,
    backed_up: bool,
    at: datetime,
) -> bool:
    """Save a sign-in's counter, backup state and time, if the counter is still ``old``.

    Returns False when no row matched: a concurrent sign-in with the same credential moved
    the counter first (or the credential is gone), and the caller should refuse this one.
    """
    matched = _RECORD_USE.rowcount(
        conn,
        {
            "b_id": credential_pk,
            "b_old": old_sign_count,
            "b_new": new_sign_count,
            "b_backed_up": backed_up,
            "b_at": at,
        },
    )
    return matched == 1


def _user(row: Row[Any]) -> UserRecord:
    return UserRecord(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        user_handle=bytes(row.user_handle),
        created_at=row.created_at,
        role=Role(row.role),
        group_id=row.group_id,
        status=UserStatus(row.status),
    )
