"""Where signed-in web sessions live: the ``web_sessions`` table, or Redis when configured.

A record is keyed by the SHA-256 of the cookie's opaque id, never the id, so whoever can
read the store (a backup, a replica, ``redis-cli``) still cannot present a live session.

Revocation has to reach every session of a user or of a credential. SQL has the indexes;
Redis keeps two index sets beside the records (``session-user:<id>`` and
``session-credential:<pk>``), which may hold hashes of sessions that already expired: a
member whose record is gone is simply skipped.

Transactions: the SQL store writes in the caller's transaction, so a session is created,
rotated or revoked together with the audit record that says so. Redis cannot join it, so
each write happens on the safe side of the commit: revocations *before* it (a rolled-back
revocation leaves a session ended, never one that the audit log says was ended alive), and
new sessions *after* it, through :meth:`SessionStore.publish` (a failed sign-in never
leaves a live session behind).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Protocol

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update
from typing_extensions import override

from authsvc.errors import Unavailable
from authsvc.storage.db import REDIS_DOWN
from authsvc.storage.models import web_sessions
from authsvc.storage.prepared import Prepared
from authsvc.storage.sweeping import SweepSchedule

if TYPE_CHECKING:
    import redis

#: Redis keeps a record this long past the moment it can no longer be used
EXPIRED_GRACE: Final = 60.0

_COLUMNS: Final = tuple(web_sessions.c)
_NAMES: Final = tuple(c.name for c in _COLUMNS)
# The statements of a sign-in (take the old record, insert the new one) and of every
# signed-in request (get): run on the driver's cursor, like the ceremonies' own.
_INSERT: Final = Prepared(insert(web_sessions).values({n: bindparam(f"b_{n}") for n in _NAMES}))
_TAKE: Final = Prepared(
    delete(web_sessions).where(web_sessions.c.id_hash == bindparam("b_id")).returning(*_COLUMNS)
)
_GET: Final = Prepared(select(*_COLUMNS).where(web_sessions.c.id_hash == bindparam("b_id")))


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """A signed-in session. Times are epoch seconds on the service clock."""

    id_hash: bytes  # SHA-256 of the cookie's opaque id
    user_id: int
    #: credentials.id of the passkey that signed the session in; None for a recovered
    #: session until its first passkey sign-in
    credential_pk: int | None
    user_verified: bool  # whether that sign-in performed user verification
    signed_in_at: float
    verified_at: float | None  # the last user-verified assertion on this session (step-up)
    last_seen_at: float
    expires_at: float  # signed_in_at + the absolute lifetime
    client_address: str | None
    user_agent: str | None
    #: signed in by recovery (a code or an admin's link), not yet by a passkey: it may add a
    #: passkey and nothing else that needs a step-up (see authsvc.services.recovery)
    recovered: bool = False

    @property
    def public_id(self) -> str:
        """What the session is shown and ended by: a prefix of the hash, never the id."""
        return self.id_hash.hex()[:16]

    def to_json(self) -> str:
        data = asdict(self)
        data["id_hash"] = self.id_hash.hex()
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> SessionRecord:
        data = json.loads(raw)
        data["id_hash"] = bytes.fromhex(data["id_hash"])
        return cls(**data)


class SessionStore(Protocol):
    """Signed-in sessions; each method runs in ``conn``'s transaction on SQL."""

    def add(self, conn: Connection, record: SessionRecord) -> None:
        """SQL: insert ``record`` in ``conn``'s transaction. Redis: nothing until publish."""

    def publish(self, record: SessionRecord) -> None:
        """Redis: store ``record`` now that its transaction committed. SQL: nothing to do."""

    def get(self, conn: Connection, id_hash: bytes) -> SessionRecord | None:
        """The record, or None (never made, revoked, or dropped after expiry)."""

    def touch(self, conn: Connection, record: SessionRecord, now: float) -> None:
        """Move ``last_seen_at`` to ``now``, unless the record was revoked meanwhile."""

    def take(self, conn: Connection, id_hash: bytes) -> SessionRecord | None:
        """Delete and return the record (sign-out, rotation); None if there was none."""

    def of_user(self, conn: Connection, user_id: int) -> list[SessionRecord]:
        """Every stored session of a user, oldest sign-in first."""

    def revoke_user(self, conn: Connection, user_id: int) -> int:
        """Delete every session of a user; return how many there were."""

    def revoke_credential(self, conn: Connection, credential_pk: int) -> int:
        """Delete every session a credential signed in; return how many there were."""


def _record(row: Sequence[Any]) -> SessionRecord:
    """A record from a row in :data:`_COLUMNS` order (a driver row or a Core one)."""
    values = dict(zip(_NAMES, row, strict=True))
    values["id_hash"] = bytes(values["id_hash"])
    values["user_verified"] = bool(values["user_verified"])
    values["recovered"] = bool(values["recovered"])
    return SessionRecord(**values)


class SqlSessionStore(SessionStore):
    """Sessions in the ``web_sessions`` table (the default, and with PostgreSQL)."""

    def __init__(self, idle_timeout: int) -> None:
        self._idle = idle_timeout
        self._sweeps = SweepSchedule()

    @override
    def add(self, conn: Connection, record: SessionRecord) -> None:
        _INSERT.execute(conn, {f"b_{n}": v for n, v in asdict(record).items()})
        now = record.last_seen_at
        if self._sweeps.due(now):
            # Sessions nobody signs out of are never deleted by a request; an indexed
            # delete now and then keeps the table as small as the live sessions.
            conn.execute(
                delete(web_sessions).where(
                    or_(
                        web_sessions.c.expires_at < now,
                        web_sessions.c.last_seen_at < now - self._idle,
                    )
                )
            )

    @override
    def publish(self, record: SessionRecord) -> None:
        """Already written by :meth:`add`, in the transaction that just committed."""

    @override
    def get(self, conn: Connection, id_hash: bytes) -> SessionRecord | None:
        row = _GET.fetchone(conn, {"b_id": id_hash})
        return None if row is None else _record(row)

    @override
    def touch(self, conn: Connection, record: SessionRecord, now: float) -> None:
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.id_hash == record.id_hash)
            .values(last_seen_at=now)
        )

    @override
    def take(self, conn: Connection, id_hash: bytes) -> SessionRecord | None:
        # fetchall: a DELETE … RETURNING must run to completion before the transaction ends
        rows = _TAKE.execute(conn, {"b_id": id_hash}).fetchall()
        return _record(rows[0]) if rows else None

    @override
    def of_user(self, conn: Connection, user_id: int) -> list[SessionRecord]:
        rows = conn.execute(
            select(*_COLUMNS)
            .where(web_sessions.c.user_id == user_id)
            .order_by(web_sessions.c.signed_in_at, web_sessions.c.id_hash)
        )
        return [_record(r) for r in rows]

    @override
    def revoke_user(self, conn: Connection, user_id: int) -> int:
        result = conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
        return int(result.rowcount)

    @override
    def revoke_credential(self, conn: Connection, credential_pk: int) -> int:
        result = conn.execute(
            delete(web_sessions).where(web_sessions.c.credential_pk == credential_pk)
        )
        return int(result.rowcount)


class RedisSessionStore(SessionStore):
    """Sessions as Redis keys that expire on their own, with per-user and per-credential sets."""

    def __init__(
        self, client: redis.Redis, prefix: str, *, idle_timeout: int, lifetime: int
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._idle = idle_timeout
        self._lifetime = lifetime

    def _key(self, id_hash: bytes) -> str:
        return f"{self._prefix}session:{id_hash.hex()}"

    def _user_set(self, user_id: int) -> str:
        return f"{self._prefix}session-user:{user_id}"

    def _credential_set(self, credential_pk: int) -> str:
        return f"{self._prefix}session-credential:{credential_pk}"

    def _indexes(self, record: SessionRecord) -> list[str]:
        """The index sets ``record`` is a member of (a recovered one has no credential yet)."""
        found = [self._user_set(record.user_id)]
        if record.credential_pk is not None:
            found.append(self._credential_set(record.credential_pk))
        return found

    def _ttl(self, record: SessionRecord, now: float) -> int:
        """Seconds until the record is unusable (idle or past its lifetime), plus a grace."""
        ends = min(record.expires_at, record.last_seen_at + self._idle)
        return max(1, math.ceil(ends - now + EXPIRED_GRACE))

    @override
    def add(self, conn: Connection, record: SessionRecord) -> None:
        """Nothing yet: a session must not exist before its sign-in has committed."""

    @override
    def publish(self, record: SessionRecord) -> None:
        index_ttl = self._lifetime + math.ceil(EXPIRED_GRACE)  # outlives every member
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.set(
                    self._key(record.id_hash),
                    record.to_json(),
                    ex=self._ttl(record, record.last_seen_at),
                )
                for index in self._indexes(record):
                    pipe.sadd(index, record.id_hash.hex())
                    pipe.expire(index, index_ttl)
                pipe.execute()
        except REDIS_DOWN as exc:
            raise Unavailable("the session store is unavailable") from exc

    @override
    def get(self, conn: Connection, id_hash: bytes) -> SessionRecord | None:
        try:
            raw = self._client.get(self._key(id_hash))
        except REDIS_DOWN as exc:
            raise Unavailable("the session store is unavailable") from exc
        return None if raw is None else SessionRecord.from_json(_text(raw))

    @override
    def touch(self, conn: Connection, record: SessionRecord, now: float) -> None:
        moved = replace(record, last_seen_at=now)
        try:
            # XX: only if the key still exists, so a touch racing a revocation cannot
            # bring the session back
            self._client.set(
                self._key(record.id_hash), moved.to_json(), ex=self._ttl(moved, now), xx=True
            )
        except REDIS_DOWN as exc:
            raise Unavailable("the session store is unavailable") from exc

    @override
    def take(self, conn: Connection, id_hash: bytes) -> SessionRecord | None:
        try:
            raw = self._client.getdel(self._key(id_hash))
            if raw is None:
                return None
            record = SessionRecord.from_json(_text(raw))
            with self._client.pipeline(transaction=True) as pipe:
                for index in self._indexes(record):
                    pipe.srem(index, id_hash.hex())
                pipe.execute()
        except REDIS_DOWN as exc:
            raise Unavailable("the session store is unavailable") from exc
        return record

    @override
    def of_user(self, conn: Connection, user_id: int) -> list[SessionRecord]:
        try:
            members = sorted(self._client.smembers(self._user_set(user_id)))
            if not members:
                return []
            raws = self._client.mget([self._key(bytes.fromhex(_text(m))) for m in members])
        except REDIS_DOWN as exc:
            raise Unavailable("the session store is unavailable") from exc
        found = [SessionRecord.from_json(_text(r)) for r in raws if r is not None]
        return sorted(found, key=lambda r: (r.signed_in_at, r.id_hash))

    @override
    def revoke_user(self, conn: Connection, user_id: int) -> int:
        return self._revoke_index(self._user_set(user_id))

    @override
    def revoke_credential(self, conn: Connection, credential_pk: int) -> int:
        return self._revoke_index(self._credential_set(credential_pk))

    def _revoke_index(self, index: str) -> int:
        """GETDEL every member of an index set (atomically each), then drop the set."""
        try:
            members = self._client.smembers(index)
            with self._client.pipeline(transaction=True) as pipe:
                for member in members:
                    pipe.getdel(self._key(bytes.fromhex(_text(member))))
                pipe.delete(index)
                results = pipe.execute()
        except REDIS_DOWN as exc:
            raise Unavailable("the session store is unavailable") from exc
        return sum(1 for r in results[:-1] if r is not None)


def _text(raw: object) -> str:
    if isinstance(raw, bytes):
        return raw.decode()
    if isinstance(raw, str):
        return raw
    raise TypeError("a synchronous redis.Redis client is required")


def make_session_store(
    redis_url: str | None, prefix: str, *, idle_timeout: int, lifetime: int
) -> SessionStore:
    """Redis at ``redis_url`` if given, else the database (through the callers' connections)."""
    if not redis_url:
        return SqlSessionStore(idle_timeout)
    import redis  # noqa: PLC0415 - optional dependency, only needed with REDIS_URL

    client = redis.Redis.from_url(
        redis_url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
    )
    return RedisSessionStore(client, prefix, idle_timeout=idle_timeout, lifetime=lifetime)
