"""Registered native apps and their signing-certificate fingerprints, in SQL.

The two lookups a ceremony makes are single indexed statements: an ``android:apk-key-hash:``
origin's fingerprint through the unique index on ``app_fingerprints.sha256`` joined to its
app, and a ``client_id`` through the unique index on ``app_clients.client_id``. There is no
cache in front of them, so removing an app (which removes its fingerprints by
``ON DELETE CASCADE``) refuses its origin in the very next ceremony, on every instance.

A unique violation (a second app with the same ``client_id``, a fingerprint another app
already holds) is ``conflict``, raised from a savepoint so the caller's transaction, and its
audit record, go on. Every function writes in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from authsvc.errors import Conflict, NotFound
from authsvc.storage.models import app_clients, app_fingerprints
from authsvc.storage.prepared import Prepared


@dataclass(frozen=True, slots=True, kw_only=True)
class AppRow:
    """A registered app with its fingerprints (Android; empty for iOS), sorted."""

    id: int
    client_id: str
    platform: str
    name: str
    team_id: str | None
    bundle_id: str | None
    package_name: str | None
    has_secret: bool
    created_at: datetime
    fingerprints: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class AppKey:
    """What a ceremony or a back-end call reads of an app: one indexed row."""

    pk: int
    client_id: str
    platform: str
    secret_hash: bytes | None = None


def add_app(
    conn: Connection,
    *,
    client_id: str,
    platform: str,
    name: str,
    team_id: str | None,
    bundle_id: str | None,
    package_name: str | None,
    secret_hash: bytes,
    fingerprints: Sequence[bytes],
    created_at: datetime,
) -> AppRow:
    """Store a new app and its fingerprints; ``conflict`` if either is already registered."""
    try:
        with conn.begin_nested():
            pk: int = conn.execute(
                insert(app_clients).returning(app_clients.c.id),
                {
                    "client_id": client_id,
                    "platform": platform,
                    "name": name,
                    "team_id": team_id,
                    "bundle_id": bundle_id,
                    "package_name": package_name,
                    "secret_hash": secret_hash,
                    "created_at": created_at,
                },
            ).scalar_one()
            if fingerprints:
                conn.execute(
                    insert(app_fingerprints), [{"app_pk": pk, "sha256": fp} for fp in fingerprints]
                )
    except IntegrityError as exc:
        raise Conflict("an app with this client id or one of these fingerprints exists") from exc
    return get_app(conn, pk)


def _select_apps() -> Any:
    return (
        select(
            app_clients.c.id,
            app_clients.c.client_id,
            app_clients.c.platform,
            app_clients.c.name,
            app_clients.c.team_id,
            app_clients.c.bundle_id,
            app_clients.c.package_name,
            app_clients.c.secret_hash.is_not(None).label("has_secret"),
            app_clients.c.created_at,
            app_fingerprints.c.sha256,
        )
        .select_from(app_clients.outerjoin(app_fingerprints))
        .order_by(app_clients.c.client_id, app_fingerprints.c.sha256)
    )


def _grouped(rows: Sequence[Any]) -> list[AppRow]:
    """Rows of the apps-with-fingerprints join, one app per run of rows."""
    apps: dict[int, tuple[Any, list[bytes]]] = {}
    for row in rows:
        _, prints = apps.setdefault(row.id, (row, []))
        if row.sha256 is not None:
            prints.append(row.sha256)
    return [
        AppRow(
            id=row.id,
            client_id=row.client_id,
            platform=row.platform,
            name=row.name,
            team_id=row.team_id,
            bundle_id=row.bundle_id,
            package_name=row.package_name,
            has_secret=bool(row.has_secret),
            created_at=row.created_at,
            fingerprints=tuple(prints),
        )
        for row, prints in apps.values()
    ]


def list_apps(conn: Connection, platform: str | None = None) -> list[AppRow]:
    """Every app (or every app of one platform) with its fingerprints: one statement."""
    statement = _select_apps()
    if platform is not None:
        statement = statement.where(app_clients.c.platform == platform)
    return _grouped(conn.execute(statement).all())


def get_app(conn: Connection, pk: int) -> AppRow:
    """One app by row id; ``not_found`` if there is none."""
    found = _grouped(conn.execute(_select_apps().where(app_clients.c.id == pk)).all())
    if not found:
        raise NotFound("no such app")
    return found[0]


#: The app holding a fingerprint: the unique index on ``sha256``, then the app's key.
FINGERPRINT_LOOKUP: Final = (
    select(app_clients.c.id, app_clients.c.client_id, app_clients.c.platform)
    .join(app_fingerprints, app_fingerprints.c.app_pk == app_clients.c.id)
    .where(app_fingerprints.c.sha256 == bindparam("b_sha256"))
)
#: The app of a client id, with its secret's hash: the unique index on ``client_id``.
CLIENT_ID_LOOKUP: Final = select(
    app_clients.c.id, app_clients.c.client_id, app_clients.c.platform, app_clients.c.secret_hash
).where(app_clients.c.client_id == bindparam("b_client_id"))
# once per ceremony: rendered once, run on the driver's cursor (authsvc.storage.prepared)
_BY_FINGERPRINT: Final = Prepared(FINGERPRINT_LOOKUP)
_BY_CLIENT_ID: Final = Prepared(CLIENT_ID_LOOKUP)


def app_by_fingerprint(conn: Connection, sha256: bytes) -> AppKey | None:
    """The app signed with this certificate: one indexed statement."""
    row = _BY_FINGERPRINT.fetchone(conn, {"b_sha256": sha256})
    return None if row is None else AppKey(row[0], row[1], row[2])


def app_by_client_id(conn: Connection, client_id: str) -> AppKey | None:
    """The app of this client id, with its secret's hash: one indexed statement."""
    row = _BY_CLIENT_ID.fetchone(conn, {"b_client_id": client_id})
    return (
        None if row is None else AppKey(row[0], row[1], row[2], bytes(row[3]) if row[3] else None)
    )


def lock_app(conn: Connection, pk: int) -> None:
    """Lock one app's row until the transaction ends (PostgreSQL; SQLite writers take turns).

    Changes to an app's fingerprints count them under this lock, so two admins removing
    its last two at once cannot both succeed.
    """
    found = conn.execute(
        select(app_clients.c.id).where(app_clients.c.id == pk).with_for_update()
    ).first()
    if found is None:
        raise NotFound("no such app")


def remove_app(conn: Connection, pk: int) -> AppRow:
    """Delete an app (its fingerprints go with it); return what it was; ``not_found``."""
    app = get_app(conn, pk)
    conn.execute(delete(app_clients).where(app_clients.c.id == pk))
    return app


def add_fingerprint(conn: Connection, pk: int, sha256: bytes) -> None:
    """Give an app one more fingerprint; ``conflict`` if any app already has it."""
    try:
        with conn.begin_nested():
            conn.execute(insert(app_fingerprints), {"app_pk": pk, "sha256": sha256})
    except IntegrityError as exc:
        raise Conflict("an app already has this fingerprint") from exc


def remove_fingerprint(conn: Connection, pk: int, sha256: bytes) -> None:
    """Take one fingerprint from an app; ``not_found`` if the app does not have it."""
    result = conn.execute(
        delete(app_fingerprints).where(
            app_fingerprints.c.app_pk == pk, app_fingerprints.c.sha256 == sha256
        )
    )
    if int(result.rowcount) != 1:
        raise NotFound("this app has no such fingerprint")
