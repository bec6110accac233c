"""Where pending ceremonies wait for their answer: the database, or Redis when configured.

The one property that matters is that :meth:`ChallengeStore.consume` hands a ceremony's
state out at most once, even to instances racing on a shared store. Both stores get it
from a single atomic command, never a read followed by a delete:

* SQL: ``DELETE … RETURNING`` in the *caller's* transaction. The row lock makes a second
  consumer wait and then find nothing, and the consumption commits (or not) together with
  the rest of the ceremony's writes and its audit record.
* Redis: ``GETDEL``. It does not take part in the SQL transaction; a consumed challenge
  stays consumed even if the ceremony's transaction then rolls back, which is the safe way.

A ceremony's id is derived from its session and kind (see
:func:`~authsvc.ceremony.state.ceremony_id`), so :meth:`ChallengeStore.put` *replaces* that
session's earlier state of the same kind: one upsert (``INSERT … ON CONFLICT DO UPDATE``) or
one Redis ``SET``.

Expiry is enforced by :meth:`PendingCeremony.check_usable` against ``expires_at``, not by
the store. Both stores keep state for ``EXPIRED_GRACE`` seconds past its expiry, so a late
answer is told "challenge_expired" rather than "challenge_unknown", then drop it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from sqlalchemy import Connection, Engine, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from authsvc.ceremony.state import PendingCeremony
from authsvc.errors import Unavailable
from authsvc.storage.db import REDIS_DOWN, transaction
from authsvc.storage.models import challenges
from authsvc.storage.prepared import Prepared
from authsvc.storage.sweeping import SweepSchedule

if TYPE_CHECKING:
    import redis

EXPIRED_GRACE: Final = 60.0

_VALUES: Final[dict[str, Any]] = {
    "id": bindparam("b_id"),
    "kind": bindparam("b_kind"),
    "expires_at": bindparam("b_expires_at"),
    "data": bindparam("b_data"),
}
_REPLACED: Final = ("kind", "expires_at", "data")
_PG_INSERT: Final = postgresql.insert(challenges).values(_VALUES)
_SQLITE_INSERT: Final = sqlite.insert(challenges).values(_VALUES)
# Both dialects spell the upsert alike; each needs its own construct to render it.
_UPSERT: Final = {
    "postgresql": Prepared(
        _PG_INSERT.on_conflict_do_update(
            index_elements=[challenges.c.id],
            set_={name: _PG_INSERT.excluded[name] for name in _REPLACED},
        )
    ),
    "sqlite": Prepared(
        _SQLITE_INSERT.on_conflict_do_update(
            index_elements=[challenges.c.id],
            set_={name: _SQLITE_INSERT.excluded[name] for name in _REPLACED},
        )
    ),
}
_CONSUME: Final = Prepared(
    delete(challenges).where(challenges.c.id == bindparam("b_id")).returning(challenges.c.data)
)
_SWEEP: Final = delete(challenges).where(challenges.c.expires_at < bindparam("b_before"))


class ChallengeStore(Protocol):
    """Pending ceremony state, handed out exactly once."""

    def put(self, pending: PendingCeremony, conn: Connection | None = None) -> None:
        """Keep ``pending`` until it is consumed or expires, replacing state of the same id.

        The SQL store writes in ``conn``'s transaction when given (so issuing options costs
        one transaction), else in its own; Redis ignores ``conn``.
        Raises :class:`Unavailable` if the store cannot be reached.
        """

    def consume(self, conn: Connection, ceremony_id: str) -> PendingCeremony | None:
        """Delete and return the state, or None if it was never stored or already taken.

        The SQL store does this in ``conn``'s transaction; Redis ignores ``conn``.
        Raises :class:`Unavailable` if the store cannot be reached.
        """

    def sweep(self, now: float) -> int:
        """Delete state that expired before ``now``; return how many entries went."""

    def ping(self) -> None:
        """Raise :class:`Unavailable` if the store cannot be reached (health checks)."""


class SqlChallengeStore:
    """Ceremony state in the ``challenges`` table (the default, and with PostgreSQL)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        self._sweeps = SweepSchedule()

    def put(self, pending: PendingCeremony, conn: Connection | None = None) -> None:
        if conn is None:
            with transaction(self._engine) as own:
                self._insert(own, pending)
        else:
            self._insert(conn, pending)

    def _insert(self, conn: Connection, pending: PendingCeremony) -> None:
        now = self._clock()
        _UPSERT[conn.dialect.name].execute(
            conn,
            {
                "b_id": pending.id,
                "b_kind": pending.kind.value,
                "b_expires_at": pending.expires_at,
                "b_data": pending.to_json(),
            },
        )
        if self._sweeps.due(now):
            # Abandoned ceremonies are never consumed; an indexed range delete now and
            # then keeps the table as small as the number of live ceremonies.
            conn.execute(_SWEEP, {"b_before": now - EXPIRED_GRACE})

    def consume(self, conn: Connection, ceremony_id: str) -> PendingCeremony | None:
        # fetchall: a DELETE … RETURNING must run to completion before the transaction ends
        rows = _CONSUME.execute(conn, {"b_id": ceremony_id}).fetchall()
        return PendingCeremony.from_json(rows[0][0]) if rows else None

    def sweep(self, now: float) -> int:
        with transaction(self._engine) as conn:
            return conn.execute(_SWEEP, {"b_before": now}).rowcount

    def ping(self) -> None:
        """The database is checked by the caller; nothing more to do here."""


class RedisChallengeStore:
    """Ceremony state as Redis keys ``<prefix><ceremony id>`` that expire on their own."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock

    def put(self, pending: PendingCeremony, conn: Connection | None = None) -> None:
        del conn  # Redis keys are not part of the SQL transaction
        ttl = max(1, math.ceil(pending.expires_at - self._clock() + EXPIRED_GRACE))
        try:
            self._client.set(self._prefix + pending.id, pending.to_json(), ex=ttl)
        except REDIS_DOWN as exc:
            raise Unavailable("the challenge store is unavailable") from exc

    def consume(self, conn: Connection, ceremony_id: str) -> PendingCeremony | None:
        del conn  # GETDEL is atomic on its own; Redis is outside the SQL transaction
        try:
            data = self._client.getdel(self._prefix + ceremony_id)
        except REDIS_DOWN as exc:
            raise Unavailable("the challenge store is unavailable") from exc
        if data is None:
            return None
        if not isinstance(data, str | bytes):
            raise TypeError("a synchronous redis.Redis client is required")
        return PendingCeremony.from_json(data)

    def sweep(self, now: float) -> int:
        del now  # Redis expires the keys itself
        return 0

    def ping(self) -> None:
        try:
            self._client.ping()
        except REDIS_DOWN as exc:
            raise Unavailable("the challenge store is unavailable") from exc


def make_challenge_store(
    engine: Engine,
    redis_url: str | None,
    prefix: str,
    *,
    clock: Callable[[], float] = time.time,
) -> ChallengeStore:
    """Redis at ``redis_url`` if given, else the database behind ``engine``."""
    if not redis_url:
        return SqlChallengeStore(engine, clock=clock)
    import redis  # noqa: PLC0415 - optional dependency, only needed with REDIS_URL

    client = redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=2,
        socket_timeout=2,
        health_check_interval=30,
    )
    return RedisChallengeStore(client, prefix, clock=clock)
