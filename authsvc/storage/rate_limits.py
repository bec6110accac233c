"""Rate-limit counters in the service's own database: a ``limits`` storage for the SQL default.

``limits`` (under flask-limiter) stores counters in memory, Redis, Memcached or MongoDB.
Memory is per process, so under gunicorn each worker would allow the whole limit again;
without Redis the one store every worker and every instance already shares is the
database. :class:`SqlRateLimitStorage` is that storage, registered with ``limits`` under
the scheme ``authsvc+sql://`` through its storage interface (``Storage`` for counters,
``SlidingWindowCounterSupport`` for the sliding window counter strategy).

Atomicity comes from the database, not from the process:

* an increment is one UPSERT (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, SQLite 3.35+
  and PostgreSQL) that also restarts a counter whose row expired but was not swept yet;
* a sliding-window hit is one conditional UPSERT: it reads both windows' counts in its own
  ``WHERE`` and inserts (or adds) only while the weighted count leaves room. SQLite runs a
  statement under its write lock, so that settles it; on PostgreSQL two hits may both see
  room, so the counts are read again and an over-the-limit hit is taken back, as
  ``limits``' own storages do.

On SQLite each check is one statement in autocommit, so it costs no BEGIN/COMMIT; on
PostgreSQL one short transaction. Expired rows are swept by one indexed range delete, at
most once a minute per process, beside a write that is happening anyway. Statements run
through :class:`Prepared`.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from limits.storage import SlidingWindowCounterSupport, Storage
from limits.storage.base import TimestampedSlidingWindow
from sqlalchemy import (
    Connection,
    Double,
    Engine,
    Integer,
    Select,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from authsvc.errors import Unavailable
from authsvc.storage.db import BACKEND_DOWN, transaction
from authsvc.storage.models import rate_limits
from authsvc.storage.prepared import Prepared

SCHEME: Final = "authsvc+sql"
SWEEP_INTERVAL: Final = 60.0
_MAX_KEY_CHARS: Final = 255  # the id column's width

_id, _hits, _expires = rate_limits.c.id, rate_limits.c.hits, rate_limits.c.expires_at

_GET: Final = Prepared(
    select(_hits, _expires).where(_id == bindparam("b_id"), _expires > bindparam("b_now"))
)
_GET_TWO: Final = Prepared(
    select(_id, _hits).where(
        _id.in_([bindparam("b_previous"), bindparam("b_current")]), _expires > bindparam("b_now")
    )
)
_TAKE_BACK: Final = Prepared(
    update(rate_limits).where(_id == bindparam("b_id")).values(hits=_hits - bindparam("b_amount"))
)
_CLEAR: Final = Prepared(delete(rate_limits).where(_id.in_([bindparam("b_a"), bindparam("b_b")])))
_SWEEP: Final = Prepared(delete(rate_limits).where(_expires < bindparam("b_before")))


def _live_hits(key: str) -> Any:
    return func.coalesce(
        select(_hits).where(_id == bindparam(key), _expires > bindparam("b_now")).scalar_subquery(),
        0,
    )


def _upserts(dialect_insert: Any) -> tuple[Prepared, Prepared]:
    """(add ``b_amount`` to a counter, the same only while the window has room).

    Both start a counter that is new, or expired but not yet swept, with ``b_expires``. The
    second inserts nothing (and so returns no row) when the weighted count of the previous
    and current windows is not below ``b_bound``: a sliding-window hit in one statement.
    """
    restart = _expires <= bindparam("b_now")

    def upsert(statement: Any) -> Prepared:
        return Prepared(
            statement.on_conflict_do_update(
                index_elements=[_id],
                set_={
                    "hits": case(
                        (restart, statement.excluded.hits), else_=_hits + statement.excluded.hits
                    ),
                    "expires_at": case((restart, statement.excluded.expires_at), else_=_expires),
                },
            ).returning(_hits)
        )

    plain = dialect_insert(rate_limits).values(
        id=bindparam("b_id"), hits=bindparam("b_amount"), expires_at=bindparam("b_expires")
    )
    weighted = _live_hits("b_previous") * bindparam("b_weight", type_=Double()) + _live_hits("b_id")
    room: Select[str, int, float] = select(
        cast(bindparam("b_id"), String()),
        cast(bindparam("b_amount"), Integer()),
        cast(bindparam("b_expires"), Double()),
    ).where(weighted < bindparam("b_bound", type_=Double()))
    conditional = dialect_insert(rate_limits).from_select(["id", "hits", "expires_at"], room)
    return upsert(plain), upsert(conditional)


_UPSERTS: Final = {"sqlite": _upserts(sqlite.insert), "postgresql": _upserts(postgresql.insert)}


def row_key(key: str) -> str:
    """``key`` as stored: itself, or its SHA-256 if it would not fit the column."""
    if len(key) <= _MAX_KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class SqlRateLimitStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """``limits`` counters in the ``rate_limits`` table, shared by every worker and instance.

    Built by ``limits.storage.storage_from_string("authsvc+sql://", engine=engine)``, which
    is how flask-limiter builds its storage from ``RATELIMIT_STORAGE_URI`` and
    ``RATELIMIT_STORAGE_OPTIONS``. ``clock`` is for tests; ``limits`` itself reads
    ``time.time()``.
    """

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - limits' registry reads a list

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        *,
        engine: Engine,
        clock: Callable[[], float] = time.time,
        **options: float | str | bool,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if engine.dialect.name not in _UPSERTS:
            raise ValueError(f"no rate-limit UPSERT for the {engine.dialect.name} dialect")
        self._engine = engine
        self._clock = clock
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        # transaction() and Prepared already turn "cannot reach the database" into this
        return Unavailable

    # -- counters (fixed windows, and what the web layer builds its backoff on) --------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount``; a new (or expired) counter expires ``expiry`` seconds from now."""
        now = self._clock()
        with self._connection() as conn:
            self._sweep(conn, now)
            row = _UPSERTS[conn.dialect.name][0].fetchone(
                conn,
                {"b_id": row_key(key), "b_amount": amount, "b_expires": now + expiry, "b_now": now},
            )
        if row is None:  # pragma: no cover - an UPSERT … RETURNING always returns its row
            raise RuntimeError("the rate-limit UPSERT returned no row")
        return int(row[0])

    def get(self, key: str) -> int:
        with self._connection() as conn:
            row = _GET.fetchone(conn, {"b_id": row_key(key), "b_now": self._clock()})
        return 0 if row is None else int(row[0])

    def get_expiry(self, key: str) -> float:
        """When the counter expires (epoch seconds); now if there is none."""
        now = self._clock()
        with self._connection() as conn:
            row = _GET.fetchone(conn, {"b_id": row_key(key), "b_now": now})
        return now if row is None else float(row[1])

    def clear(self, key: str) -> None:
        with self._connection() as conn:
            _CLEAR.execute(conn, {"b_a": row_key(key), "b_b": row_key(key)})

    def reset(self) -> int | None:
        with transaction(self._engine) as conn:
            return int(conn.execute(delete(rate_limits)).rowcount)

    def check(self) -> bool:
        try:
            with transaction(self._engine) as conn:
                conn.execute(text("SELECT 1"))
        except Unavailable:
            return False
        return True

    # -- the sliding window counter strategy ---------------------------------------------------

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        """Count a hit unless the weighted count of both windows would pass ``limit``.

        One conditional UPSERT: floor(weighted) + amount <= limit is weighted < limit -
        amount + 1, so the database needs no floor(). Under PostgreSQL's READ COMMITTED two
        hits may both see room; the count the UPSERT returns settles it.
        """
        if amount > limit:
            return False
        now = self._clock()
        previous_key, current_key = (row_key(k) for k in self.sliding_window_keys(key, expiry, now))
        weight = _previous_weight(1, expiry, now)
        with self._connection() as conn:
            self._sweep(conn, now)
            row = _UPSERTS[conn.dialect.name][1].fetchone(
                conn,
                {
                    "b_id": current_key,
                    "b_previous": previous_key,
                    "b_amount": amount,
                    # the current window's counter is read as "previous" through the next
                    # window too, so it expires two windows from its first hit
                    "b_expires": now + 2 * expiry,
                    "b_now": now,
                    "b_weight": weight,
                    "b_bound": limit - amount + 1,
                },
            )
            if row is None:
                return False
            if conn.dialect.name == "sqlite":  # one statement holds the write lock: settled
                return True
            previous, current = self._windows(conn, previous_key, current_key, now)
            if math.floor(previous * weight + current) > limit:  # a concurrent hit won
                _TAKE_BACK.execute(conn, {"b_id": current_key, "b_amount": amount})
                return False
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """(previous count, its remaining weight in seconds, current count, its TTL)."""
        now = self._clock()
        previous_key, current_key = (row_key(k) for k in self.sliding_window_keys(key, expiry, now))
        with self._connection() as conn:
            previous, current = self._windows(conn, previous_key, current_key, now)
        previous_ttl = _previous_weight(previous, expiry, now) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self.sliding_window_keys(key, expiry, self._clock())
        with self._connection() as conn:
            _CLEAR.execute(conn, {"b_a": row_key(previous_key), "b_b": row_key(current_key)})

    # -- internals -----------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """Where one check runs: PostgreSQL in a transaction; SQLite in autocommit.

        Every check is one statement (but a PostgreSQL take-back), and one SQLite statement
        is atomic under the database's write lock: BEGIN IMMEDIATE and COMMIT around it
        would cost more than the statement. (``authsvc.storage.db`` switches pysqlite's
        own transactions off, and :class:`Prepared` runs on the driver's cursor, so
        nothing begins one behind our back.)
        """
        if self._engine.dialect.name != "sqlite":
            with transaction(self._engine) as conn:
                yield conn
            return
        try:
            conn = self._engine.connect()
        except BACKEND_DOWN as exc:
            raise Unavailable() from exc
        with conn:
            yield conn

    def _windows(
        self, conn: Connection, previous_key: str, current_key: str, now: float
    ) -> tuple[int, int]:
        rows = _GET_TWO.execute(
            conn, {"b_previous": previous_key, "b_current": current_key, "b_now": now}
        ).fetchall()
        counts = {row[0]: int(row[1]) for row in rows}
        return counts.get(previous_key, 0), counts.get(current_key, 0)

    def _sweep(self, conn: Connection, now: float) -> None:
        with self._sweep_lock:
            if now < self._next_sweep:
                return
            self._next_sweep = now + SWEEP_INTERVAL
        _SWEEP.execute(conn, {"b_before": now})


def _previous_weight(previous: int, expiry: int, now: float) -> float:
    """The share of the previous window that still counts: 1 at a window's start, 0 at its end."""
    if previous == 0:
        return 0.0
    return 1 - (((now - expiry) / expiry) % 1)
