"""Engines, transactions and migrations: the only module that knows the dialects apart.

SQLite is the zero-setup default and PostgreSQL the scaled-out one; both must give the same
guarantees to the code above. On SQLite that takes some help:

* pysqlite's own transaction handling does not BEGIN before a SELECT or a SAVEPOINT, so
  savepoints would escape the transaction. We switch it off and emit ``BEGIN IMMEDIATE``
  ourselves (the SQLAlchemy "serializable isolation / savepoints" recipe).
* ``IMMEDIATE`` takes the write lock at BEGIN. Two writers then queue on ``busy_timeout``
  instead of both reading under a shared lock and one failing with "database is locked"
  when it tries to upgrade to write, which is what the default deferred BEGIN does.
  Reads queue too: simple, and correct for the single-node default; PostgreSQL is for scale.
* WAL makes commits cheap and lets outside readers (a backup, the sqlite3 shell) run
  beside the writer; ``synchronous=NORMAL`` is durable in WAL mode across application
  crashes. ``foreign_keys`` is off by default in SQLite and ON DELETE CASCADE needs it.

Any failure to reach a backing store becomes :class:`~authsvc.errors.Unavailable` in one
place, :func:`transaction`, so the HTTP edge answers 503 and nothing is half-written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import InterfaceError, OperationalError

from authsvc.errors import AuthError, Unavailable

MIGRATIONS_DIR: Final = Path(__file__).resolve().parents[1] / "migrations"  # package data

SQLITE_PRAGMAS: Final = (
    "PRAGMA busy_timeout=5000",  # first, so switching to WAL waits for a busy file too
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)

# pg_advisory_xact_lock key ("authsvcM" as a big-endian int64): instances that start together
# take turns to migrate; the later ones then find the schema at head and do nothing.
MIGRATION_LOCK_KEY: Final = int.from_bytes(b"authsvcM", "big")

# Alembic keeps its running context in module globals (alembic.context, alembic.op), so two
# threads of one process must not migrate at once, whatever the database locks.
_ALEMBIC_IN_PROCESS: Final = threading.Lock()

POSTGRES_POOL: Final[dict[str, Any]] = {
    # No pool_pre_ping: it costs a round trip on every checkout (~190 µs per transaction
    # here, more than a sign-in's own statements). A connection that died with the server
    # fails its first statement instead: SQLAlchemy discards it and the pool, and the
    # request answers 503 `unavailable` with nothing changed; the next request reconnects.
    "pool_size": 10,
    "max_overflow": 10,
    "pool_timeout": 10,
    "pool_recycle": 1800,
}


def _redis_errors() -> tuple[type[Exception], ...]:
    """Redis connection failures, if redis-py is installed (it is optional with SQLite)."""
    try:
        from redis.exceptions import (  # noqa: PLC0415 - optional dependency
            ConnectionError as RedisConnectionError,
        )
        from redis.exceptions import TimeoutError as RedisTimeoutError  # noqa: PLC0415
    except ImportError:  # pragma: no cover - redis is installed wherever REDIS_URL is set
        return ()
    return (RedisConnectionError, RedisTimeoutError)


REDIS_DOWN: Final[tuple[type[Exception], ...]] = _redis_errors()
BACKEND_DOWN: Final[tuple[type[Exception], ...]] = (OperationalError, InterfaceError, *REDIS_DOWN)


_LIBPQ: Final = frozenset({"psycopg", "psycopg2"})


def create_db_engine(url: str | URL) -> Engine:
    """An engine for ``url`` with this service's settings for its dialect."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": 5} if parsed.get_driver_name() in _LIBPQ else {}
        return create_engine(parsed, connect_args=connect_args, **POSTGRES_POOL)
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # pysqlite must not BEGIN on its own; we do
        cursor = dbapi_conn.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # straight to the driver: this runs at every transaction, and SQLAlchemy's statement
        # machinery would cost more than the BEGIN itself
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]

    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a transaction, committed on success and rolled back on error.

    A database or Redis that cannot be reached (or, on SQLite, stays locked past the busy
    timeout) raises :class:`Unavailable`; an :class:`AuthError` from the body passes
    through unchanged after the rollback.
    """
    try:
        with engine.begin() as conn:
            yield conn
    except AuthError:
        raise
    except BACKEND_DOWN as exc:
        raise Unavailable from exc


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for ``migrations/``, without needing ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def lock_for_migration(conn: Connection) -> None:
    """On PostgreSQL, wait for any other instance's migration; released at commit."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def upgrade(target: Engine | str | URL, revision: str = "head") -> None:
    """Run ``alembic upgrade`` in one transaction, under the migration lock.

    On PostgreSQL the DDL is transactional, so an instance that dies mid-way leaves the
    schema as it was. A URL gets its own engine, disposed of afterwards.
    """
    engine = target if isinstance(target, Engine) else create_db_engine(target)
    try:
        with _ALEMBIC_IN_PROCESS, migration_transaction(engine) as conn:
            command.upgrade(alembic_config(conn), revision)
    except BACKEND_DOWN as exc:
        raise Unavailable from exc
    finally:
        if engine is not target:
            engine.dispose()


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction for running revisions, holding the migration lock.

    On SQLite, Alembic's batch mode changes a table by copying it, dropping the original
    and renaming the copy. With ``foreign_keys`` on (as every connection of ours has it),
    that DROP cascades: rebuilding ``users`` deleted every credential. SQLite's documented
    procedure (https://sqlite.org/lang_altertable.html) is to turn foreign keys off outside
    the transaction (the PRAGMA is a no-op inside one), check them before committing, and
    turn them back on, which is what this does; revisions need no workaround of their own.
    """
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        # straight to the driver: a statement through ``conn`` would begin the transaction
        driver: Any = conn.connection.driver_connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                lock_for_migration(conn)
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")
