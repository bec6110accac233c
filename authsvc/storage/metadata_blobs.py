"""Metadata BLOBs an operator loaded with ``authsvc mds refresh``, kept for every instance.

The BLOB itself is stored (a few MB), so each instance can verify and index it on its own,
and a newer row is how instances learn, within seconds and without a restart, that the
metadata changed. Rows are never updated; the newest one is the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, insert, select

from authsvc.storage.models import metadata_blobs


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredBlob:
    id: int
    sha256: str  # hex
    no: int
    next_update: date
    source: str
    loaded_at: datetime
    blob: bytes


def latest_id(conn: Connection) -> int | None:
    latest: int | None = conn.execute(select(func.max(metadata_blobs.c.id))).scalar_one()
    return latest


def load(conn: Connection, blob_id: int) -> StoredBlob | None:
    row = conn.execute(select(metadata_blobs).where(metadata_blobs.c.id == blob_id)).one_or_none()
    if row is None:
        return None
    return StoredBlob(
        id=row.id,
        sha256=row.sha256,
        no=row.no,
        next_update=date.fromisoformat(row.next_update),
        source=row.source,
        loaded_at=row.loaded_at,
        blob=bytes(row.blob),
    )


def store(
    conn: Connection,
    *,
    blob: bytes,
    sha256: str,
    no: int,
    next_update: date,
    source: str,
    loaded_at: datetime,
) -> int:
    pk: int = conn.execute(
        insert(metadata_blobs).returning(metadata_blobs.c.id),
        {
            "blob": blob,
            "sha256": sha256,
            "no": no,
            "next_update": next_update.isoformat(),
            "source": source,
            "loaded_at": loaded_at,
        },
    ).scalar_one()
    return pk
