"""The ``signing_keys`` table: every instance's access-token keys, private halves sealed.

Rows hold what :mod:`mobile_bridge.signing_keys` seals; nothing here can open them. The set
is tiny (the active key and the few retired ones still published), so it is always read
whole, and only when an instance's cache needs it (start, a stale check, an unknown kid).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from authsvc.storage.models import signing_keys


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredKey:
    kid: str
    sealed: bytes
    created_at: float
    retired_at: float | None


def all_keys(conn: Connection) -> list[StoredKey]:
    rows = conn.execute(select(signing_keys).order_by(signing_keys.c.created_at))
    return [
        StoredKey(
            kid=r.kid,
            sealed=bytes(r.sealed_private_key),
            created_at=r.created_at,
            retired_at=r.retired_at,
        )
        for r in rows
    ]


def add(conn: Connection, *, kid: str, sealed: bytes, created_at: float) -> None:
    conn.execute(
        insert(signing_keys).values(kid=kid, sealed_private_key=sealed, created_at=created_at)
    )


def retire_active(conn: Connection, now: float) -> list[str]:
    """Retire every key that signs (normally one); return their kids."""
    found: list[str] = list(
        conn.execute(
            update(signing_keys)
            .where(signing_keys.c.retired_at.is_(None))
            .values(retired_at=now)
            .returning(signing_keys.c.kid)
        ).scalars()
    )
    return sorted(found)


def drop(conn: Connection, kids: Collection[str]) -> int:
    if not kids:
        return 0
    result = conn.execute(delete(signing_keys).where(signing_keys.c.kid.in_(list(kids))))
    return int(result.rowcount)
