"""Rate-limit counters in the service's own database: a ``limits`` storage for the SQL default.

``limits`` (under flask-limiter) stores counters in memory, Redis, Memcached or MongoDB.
Memory is per process, so under gunicorn each worker would allow the whole limit again;
without Redis the one store every worker and every instance already shares is the
database. :class:`SqlRateLimitStorage` is that storage, registered with ``limits`` under
the scheme ``authsvc+sql://`` through its storage interface (``Storage`` for counters,
``SlidingWindowCounterSupport`` for the sliding window counter strategy).

A limit of several windows (``30/minute;300/hour``) is hit in one storage call by
:func:`hit_windows`, which ``limits`` has no call for: one statement here, one pipelined
round trip of ``limits``' own Lua script on Redis. Each window counts the hit if it has room,
as flask-limiter does with ``fail_on_first_breach=False``.

Atomicity comes from the database, not from the process:

* an increment is one UPSERT (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, SQLite 3.35+
  and PostgreSQL) that also restarts a counter whose row expired but was not swept yet;
* a sliding-window hit is one conditional UPSERT for all the windows of a limit: each
  window's row is inserted (or added to) only while the weighted count of it and its
  previous window leaves room. The room is checked in the ``SELECT`` that proposes the row
  (for a counter that does not exist yet) and again in ``DO UPDATE … WHERE``, which
  PostgreSQL evaluates on the row as locked, with any concurrent hit already counted; SQLite
  runs the statement under its write lock. Nothing is read again or taken back. An update
  changes ``hits`` alone, so it writes one page (the row's), not both indexes' too.

Every call is one statement in autocommit (two, when a sweep is due): no BEGIN/COMMIT,
which on SQLite would cost more than the statement and on PostgreSQL two more round trips.
Expired rows are swept by one indexed range delete, at most once a minute per process,
beside a write that is happening anyway. Statements run through :class:`Prepared`.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import RedisStorage, SlidingWindowCounterSupport, Storage
from limits.storage.base import TimestampedSlidingWindow
from sqlalchemy import (
    ColumnElement,
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
    false,
    func,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from typing_extensions import override

from authsvc.errors import Unavailable
from authsvc.storage.db import BACKEND_DOWN, transaction
from authsvc.storage.models import rate_limits
from authsvc.storage.prepared import Prepared
from authsvc.storage.sweeping import SweepSchedule

SCHEME: Final = "authsvc+sql"
_MAX_KEY_CHARS: Final = 255  # the id column's width

_id, _hits, _expires = rate_limits.c.id, rate_limits.c.hits, rate_limits.c.expires_at
_DIALECT_INSERTS: Final[dict[str, Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}

_GET: Final = Prepared(
    select(_hits, _expires).where(_id == bindparam("b_id"), _expires > bindparam("b_now"))
)
_GET_TWO: Final = Prepared(
    select(_id, _hits).where(
        _id.in_([bindparam("b_previous"), bindparam("b_current")]), _expires > bindparam("b_now")
    )
)
_CLEAR: Final = Prepared(delete(rate_limits).where(_id.in_([bindparam("b_a"), bindparam("b_b")])))
_SWEEP: Final = Prepared(delete(rate_limits).where(_expires < bindparam("b_before")))


def _increments() -> dict[str, Prepared]:
    """Per dialect: add ``b_amount`` to counter ``b_id``, or restart it if it expired unswept;
    a new (or restarted) counter expires at ``b_expires``."""
    statements = {}
    for name, insert in _DIALECT_INSERTS.items():
        statement = insert(rate_limits).values(
            id=bindparam("b_id"), hits=bindparam("b_amount"), expires_at=bindparam("b_expires")
        )
        restart = _expires <= bindparam("b_now")
        upsert = statement.on_conflict_do_update(
            index_elements=[_id],
            set_={
                "hits": case(
                    (restart, statement.excluded.hits), else_=_hits + statement.excluded.hits
                ),
                "expires_at": case((restart, statement.excluded.expires_at), else_=_expires),
            },
        )
        statements[name] = Prepared(upsert.returning(_hits))
    return statements


_INCR: Final = _increments()


def _live_hits(table: Any, key: str) -> ColumnElement[Any]:
    return func.coalesce(
        select(table.c.hits)
        .where(table.c.id == bindparam(key), table.c.expires_at > bindparam("b_now"))
        .scalar_subquery(),
        0,
    )


@functools.cache
def _acquire(dialect: str, windows: int) -> Prepared:
    """Hit ``windows`` sliding windows in one statement; RETURNING names those that had room.

    Window ``i`` adds ``b_amount`` to its current counter ``b_id{i}`` while the count of its
    previous counter ``b_previous{i}``, weighted by ``b_weight{i}``, plus its own is below
    ``b_bound{i}``. The ``SELECT`` checks that on the statement's snapshot, which is all a
    counter that does not exist yet has; ``DO UPDATE … WHERE`` checks it again on the row
    as locked, where PostgreSQL sees a concurrent hit that committed first.
    """
    insert = _DIALECT_INSERTS[dialect]
    current, previous = rate_limits.alias("this_window"), rate_limits.alias("last_window")

    def prior(i: int) -> ColumnElement[Any]:
        return _live_hits(previous, f"b_previous{i}") * bindparam(f"b_weight{i}", type_=Double())

    def bound(i: int) -> ColumnElement[Any]:
        return bindparam(f"b_bound{i}", type_=Double())

    proposed: list[Select[str, int, float]] = [
        select(
            cast(bindparam(f"b_id{i}"), String()),
            cast(bindparam("b_amount"), Integer()),
            cast(bindparam(f"b_expires{i}"), Double()),
        ).where(prior(i) + _live_hits(current, f"b_id{i}") < bound(i))
        for i in range(windows)
    ]
    source = proposed[0] if windows == 1 else union_all(*proposed)
    statement = insert(rate_limits).from_select(["id", "hits", "expires_at"], source)
    room = case(
        *(
            (statement.excluded.id == bindparam(f"b_id{i}"), prior(i) + _hits < bound(i))
            for i in range(windows)
        ),
        else_=false(),
    )
    # Only ``hits`` changes: a window's counter is hit during its own window alone and
    # expires two windows after its first hit, so it is never hit expired, and leaving
    # ``expires_at`` (and its index) alone leaves one page to write instead of three.
    upsert = statement.on_conflict_do_update(
        index_elements=[_id], set_={"hits": _hits + statement.excluded.hits}, where=room
    )
    return Prepared(upsert.returning(_id))


def row_key(key: str) -> str:
    """``key`` as stored: itself, or its SHA-256 if it would not fit the column."""
    if len(key) <= _MAX_KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def hit_windows(
    storage: Storage, items: Sequence[RateLimitItem], identifiers: Sequence[str], cost: int = 1
) -> list[RateLimitItem]:
    """Hit each of ``items`` for ``identifiers`` in one storage call; return those that refused.

    Each item is what ``SlidingWindowCounterRateLimiter.hit`` makes of it (the same keys, so
    ``get_window_stats`` reads them), and counts the hit if it has room: one statement on
    :class:`SqlRateLimitStorage`, one pipelined round trip on Redis, one call per item on
    any other storage.
    """
    entries = [(item.key_for(*identifiers), item.amount, item.get_expiry()) for item in items]
    if isinstance(storage, SqlRateLimitStorage):
        acquired = storage.acquire_sliding_window_entries(entries, cost)
    elif type(storage) is RedisStorage and len(entries) > 1:
        acquired = _redis_acquire(storage, entries, cost)
    elif isinstance(storage, SlidingWindowCounterSupport):
        acquired = [
            storage.acquire_sliding_window_entry(key, limit, expiry, cost)
            for key, limit, expiry in entries
        ]
    else:
        raise TypeError(f"{type(storage).__name__} has no sliding window counter")
    return [item for item, ok in zip(items, acquired, strict=True) if not ok]


def _redis_acquire(
    storage: RedisStorage, entries: Sequence[tuple[str, int, int]], amount: int
) -> list[bool]:
    """``limits``' own ``acquire_sliding_window`` script for each entry, in one pipeline.

    EVALSHA is sent directly: redis-py's ``Script`` objects in a pipeline first ask the
    server whether the script exists, one more round trip each time. A server that lost its
    scripts (a restart, ``SCRIPT FLUSH``) answers NOSCRIPT to every entry, so none counted;
    ``limits``' own calls, which load the script again, then take over.
    """
    from redis.exceptions import NoScriptError  # noqa: PLC0415 - only with a Redis storage

    sha = storage.lua_acquire_sliding_window.sha
    pipe = storage.get_connection().pipeline(transaction=False)  # type: ignore[attr-defined]
    for key, limit, expiry in entries:
        # limits' own key layout, so that its reads and resets see what the batch counted
        previous = storage.prefixed_key(storage._previous_window_key(key))  # noqa: SLF001
        current = storage.prefixed_key(storage._current_window_key(key))  # noqa: SLF001
        pipe.evalsha(sha, 2, previous, current, limit, expiry, amount)
    try:
        replies = pipe.execute()
    except NoScriptError:
        return [
            storage.acquire_sliding_window_entry(key, limit, expiry, amount)
            for key, limit, expiry in entries
        ]
    except storage.base_exceptions as exc:
        if storage.wrap_exceptions:
            raise StorageError(exc) from exc
        raise
    return [bool(reply) for reply in replies]


class SqlRateLimitStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """``limits`` counters in the ``rate_limits`` table, shared by every worker and instance.

    Built by ``limits.storage.storage_from_string("authsvc+sql://", engine=engine)``, which
    is how flask-limiter builds its storage from ``RATELIMIT_STORAGE_URI`` and
    ``RATELIMIT_STORAGE_OPTIONS``. ``clock`` is for tests; ``limits`` itself reads
    ``time.time()``.
    """

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - limits' registry reads a list

    @override
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
        if engine.dialect.name not in _DIALECT_INSERTS:
            raise ValueError(f"no rate-limit UPSERT for the {engine.dialect.name} dialect")
        self._engine = engine
        # SQLite's connections are in autocommit already (authsvc.storage.db); PostgreSQL's
        # are put in it for the checkout, which psycopg does without a round trip
        self._autocommit = (
            engine
            if engine.dialect.name == "sqlite"
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._clock = clock
        self._sweeps = SweepSchedule()

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
            row = _INCR[conn.dialect.name].fetchone(
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
        """Count a hit unless the weighted count of both windows would pass ``limit``."""
        return self.acquire_sliding_window_entries([(key, limit, expiry)], amount)[0]

    def acquire_sliding_window_entries(
        self, entries: Sequence[tuple[str, int, int]], amount: int = 1
    ) -> list[bool]:
        """For each ``(key, limit, expiry)``, whether it counted a hit: one statement for all.

        floor(weighted) + amount <= limit is weighted < limit - amount + 1, so the database
        needs no floor(). A key may appear once (an UPSERT changes a row once).
        """
        now = self._clock()
        params: dict[str, Any] = {"b_amount": amount, "b_now": now}
        positions: dict[str, int] = {}
        for position, (key, limit, expiry) in enumerate(entries):
            if amount > limit:
                continue
            previous_key, current_key = self.sliding_window_keys(key, expiry, now)
            current_key = row_key(current_key)
            if current_key in positions:
                raise ValueError(f"rate-limit key {key!r} given twice")
            i = len(positions)
            positions[current_key] = position
            params[f"b_id{i}"] = current_key
            params[f"b_previous{i}"] = row_key(previous_key)
            params[f"b_weight{i}"] = _previous_weight(1, expiry, now)
            params[f"b_bound{i}"] = limit - amount + 1
            # read as "previous" through the next window too: expires two windows on
            params[f"b_expires{i}"] = now + 2 * expiry
        acquired = [False] * len(entries)
        if not positions:
            return acquired
        with self._connection() as conn:
            self._sweep(conn, now)
            rows = _acquire(conn.dialect.name, len(positions)).execute(conn, params).fetchall()
        for row in rows:
            acquired[positions[row[0]]] = True
        return acquired

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """(previous count, its remaining weight in seconds, current count, its TTL)."""
        now = self._clock()
        previous_key, current_key = (row_key(k) for k in self.sliding_window_keys(key, expiry, now))
        with self._connection() as conn:
            rows = _GET_TWO.execute(
                conn, {"b_previous": previous_key, "b_current": current_key, "b_now": now}
            ).fetchall()
        counts = {row[0]: int(row[1]) for row in rows}
        previous, current = counts.get(previous_key, 0), counts.get(current_key, 0)
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
        """A pooled connection in autocommit: each statement is atomic on its own.

        (``authsvc.storage.db`` switches pysqlite's own transactions off, and
        :class:`Prepared` runs on the driver's cursor, so nothing begins one behind our
        back.)
        """
        try:
            conn = self._autocommit.connect()
        except BACKEND_DOWN as exc:
            raise Unavailable from exc
        with conn:
            yield conn

    def _sweep(self, conn: Connection, now: float) -> None:
        if self._sweeps.due(now):
            _SWEEP.execute(conn, {"b_before": now})


def _previous_weight(previous: int, expiry: int, now: float) -> float:
    """The share of the previous window that still counts: 1 at a window's start, 0 at its end."""
    if previous == 0:
        return 0.0
    return 1 - (((now - expiry) / expiry) % 1)
