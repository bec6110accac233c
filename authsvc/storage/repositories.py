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

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Row, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from authsvc.errors import Conflict, CredentialExcluded
from authsvc.storage.models import credentials, groups, users
from authsvc.storage.policies import DEFAULT_GROUP_ID
from authsvc.storage.prepared import Prepared
from authsvc.storage.records import (
    CredentialRecord,
    NewCredential,
    SignInCredential,
    UserRecord,
)
from authsvc.usernames import canonical

_USER_COLUMNS: Final = (
    users.c.id,
    users.c.username,
    users.c.display_name,
    users.c.user_handle,
    users.c.created_at,
    users.c.role,
    users.c.group_id,
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

CREDENTIAL_COLUMNS: Final = (
    credentials.c.id,
    credentials.c.credential_id,
    credentials.c.user_id,
    users.c.username,
    users.c.user_handle,
    credentials.c.public_key,
    credentials.c.algorithm,
    credentials.c.sign_count,
    credentials.c.aaguid,
    credentials.c.fmt,
    credentials.c.attestation_type,
    credentials.c.trust,
    credentials.c.transports,
    credentials.c.backup_eligible,
    credentials.c.backed_up,
    credentials.c.attachment,
    credentials.c.name,
    credentials.c.created_at,
    credentials.c.last_used_at,
    credentials.c.status,
    credentials.c.aaguid_proven,
    credentials.c.attestation_key_id,
    credentials.c.flagged_at,
)
_SELECT_CREDENTIALS: Final = select(*CREDENTIAL_COLUMNS).join_from(
    credentials, users, credentials.c.user_id == users.c.id
)
# The login lookup: the unique index on credential_id, then the user's primary key.
_GET_CREDENTIAL: Final = _SELECT_CREDENTIALS.where(
    credentials.c.credential_id == bindparam("b_credential_id")
)
_LIST_CREDENTIALS: Final = _SELECT_CREDENTIALS.where(
    credentials.c.user_id == bindparam("b_user_id")
).order_by(credentials.c.id)
# The sign-in path's two reads, run through Prepared (see authsvc.storage.prepared).
_SIGN_IN_COLUMNS: Final = select(
    credentials.c.id,
    credentials.c.credential_id,
    credentials.c.user_id,
    users.c.username,
    users.c.user_handle,
    credentials.c.public_key,
    credentials.c.sign_count,
    credentials.c.backup_eligible,
    credentials.c.transports,
    credentials.c.status,
    credentials.c.aaguid,
    credentials.c.aaguid_proven,
    credentials.c.attestation_key_id,
    credentials.c.trust,
    credentials.c.attachment,
    credentials.c.algorithm,
    groups.c.policy_id,
).select_from(
    credentials.join(users, credentials.c.user_id == users.c.id).join(
        groups, groups.c.id == func.coalesce(users.c.group_id, DEFAULT_GROUP_ID)
    )
)
_SIGN_IN_BY_ID: Final = Prepared(
    _SIGN_IN_COLUMNS.where(credentials.c.credential_id == bindparam("b_credential_id"))
)
# A disabled account lists no credentials, so its options are the decoys an unknown
# username gets (the result refuses it anyway, by credential id).
_SIGN_IN_BY_USERNAME: Final = Prepared(
    _SIGN_IN_COLUMNS.where(users.c.username_canonical == bindparam("b_canonical"))
    .where(users.c.status == "active")
    .order_by(credentials.c.id)
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


def get_credential(conn: Connection, credential_id: bytes) -> CredentialRecord | None:
    """The credential with this id, with its user's handle, in one indexed statement."""
    row = conn.execute(_GET_CREDENTIAL, {"b_credential_id": credential_id}).one_or_none()
    return None if row is None else credential_record(row)


def list_credentials(conn: Connection, user_id: int) -> list[CredentialRecord]:
    """All of a user's credentials, whatever their status, oldest first."""
    rows = conn.execute(_LIST_CREDENTIALS, {"b_user_id": user_id})
    return [credential_record(row) for row in rows]


def sign_in_credential(conn: Connection, credential_id: bytes) -> SignInCredential | None:
    """The sign-in lookup: one statement on the unique credential id index, user joined."""
    row = _SIGN_IN_BY_ID.fetchone(conn, {"b_credential_id": credential_id})
    return None if row is None else _sign_in(row)


def sign_in_credentials(conn: Connection, username: str) -> list[SignInCredential]:
    """An active user's credentials by username (canonical form), in one statement (sign-in
    options); none for a disabled user."""
    cursor = _SIGN_IN_BY_USERNAME.execute(conn, {"b_canonical": canonical(username)})
    return [_sign_in(row) for row in cursor.fetchall()]


def add_credential(conn: Connection, new: NewCredential) -> int:
    """Store a credential and return its primary key.

    Raises :class:`CredentialExcluded` if the credential id is registered already (to this
    or any other user); only the savepoint is rolled back.
    """
    values = {
        "credential_id": new.credential_id,
        "user_id": new.user_id,
        "public_key": new.public_key,
        "algorithm": new.algorithm,
        "sign_count": new.sign_count,
        "aaguid": new.aaguid,
        "fmt": new.fmt,
        "attestation_type": new.attestation_type,
        "trust": new.trust,
        "transports": _dump_transports(new.transports),
        "backup_eligible": new.backup_eligible,
        "backed_up": new.backed_up,
        "attachment": new.attachment,
        "name": new.name,
        "created_at": new.created_at,
        "status": "active",
        "aaguid_proven": new.aaguid_proven,
        "attestation_key_id": new.attestation_key_id,
    }
    try:
        with conn.begin_nested():
            pk: int = conn.execute(_INSERT_CREDENTIAL, values).scalar_one()
    except IntegrityError as exc:
        existing = conn.execute(_CREDENTIAL_EXISTS, {"b_credential_id": new.credential_id})
        if existing.first() is not None:
            raise CredentialExcluded() from exc
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
        role=row.role,
        group_id=row.group_id,
    )


def credential_record(row: Row[Any]) -> CredentialRecord:
    return CredentialRecord(
        id=row.id,
        credential_id=bytes(row.credential_id),
        user_id=row.user_id,
        username=row.username,
        user_handle=bytes(row.user_handle),
        public_key=bytes(row.public_key),
        algorithm=row.algorithm,
        sign_count=row.sign_count,
        aaguid=bytes(row.aaguid),
        fmt=row.fmt,
        attestation_type=row.attestation_type,
        trust=row.trust,
        transports=_load_transports(row.transports),
        backup_eligible=bool(row.backup_eligible),
        backed_up=bool(row.backed_up),
        attachment=row.attachment,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        status=row.status,
        aaguid_proven=bool(row.aaguid_proven),
        attestation_key_id=row.attestation_key_id,
        flagged_at=row.flagged_at,
    )


def _sign_in(row: Sequence[Any]) -> SignInCredential:
    (
        pk,
        credential_id,
        user_id,
        username,
        handle,
        key,
        count,
        be,
        transports,
        status,
        aaguid,
        proven,
        key_id,
        trust,
        attachment,
        algorithm,
        policy_id,
    ) = row
    return SignInCredential(
        id=pk,
        credential_id=bytes(credential_id),
        user_id=user_id,
        username=username,
        user_handle=bytes(handle),
        public_key=bytes(key),
        sign_count=count,
        backup_eligible=bool(be),
        transports=_load_transports(transports),
        status=status,
        aaguid=bytes(aaguid),
        aaguid_proven=bool(proven),
        attestation_key_id=key_id,
        trust=trust,
        attachment=attachment,
        algorithm=algorithm,
        policy_id=policy_id,
    )


def _dump_transports(transports: tuple[str, ...]) -> str:
    return json.dumps(list(transports), separators=(",", ":"))


def _load_transports(raw: str) -> tuple[str, ...]:
    value = json.loads(raw)
    return tuple(item for item in value if isinstance(item, str))
