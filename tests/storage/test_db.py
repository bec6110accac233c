"""Engine settings and the transaction helper: the guarantees the layers above rely on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from authsvc.errors import ChallengeUnknown, Unavailable
from authsvc.storage.db import create_db_engine, transaction
from authsvc.storage.models import users
from tests.storage.builders import make_user


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'made' / 'on' / 'demand.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert (tmp_path / "made" / "on" / "demand.db").exists()
    finally:
        engine.dispose()


def test_a_dropped_postgres_connection_costs_one_unavailable_then_recovers(
    engine: Engine,
) -> None:
    """Without pre-ping, a connection the server dropped fails once, cleanly, then heals."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a server-side disconnect needs PostgreSQL")
    own = create_db_engine(engine.url)  # one pooled connection, so the next checkout is it
    try:
        with transaction(own) as conn:
            pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(Unavailable), transaction(own) as conn:
            conn.execute(text("SELECT 1"))
        with transaction(own) as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        own.dispose()


def test_unreachable_database_is_unavailable() -> None:
    engine = create_db_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(Unavailable), transaction(engine) as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def test_auth_error_passes_through_and_rolls_back(engine: Engine) -> None:
    def ceremony() -> None:
        with transaction(engine) as conn:
            make_user(conn, "rolled-back")
            raise ChallengeUnknown

    with pytest.raises(ChallengeUnknown):
        ceremony()
    with transaction(engine) as conn:
        assert conn.execute(select(users.c.id)).first() is None


def test_savepoint_rolls_back_alone(engine: Engine) -> None:
    with transaction(engine) as conn:
        make_user(conn, "kept")
        nested = conn.begin_nested()
        make_user(conn, "dropped")
        nested.rollback()
    with transaction(engine) as conn:
        assert conn.execute(select(users.c.username)).scalars().all() == ["kept"]


def test_concurrent_read_then_write_transactions_serialize(engine: Engine) -> None:
    """Each thread reads, then writes: on SQLite a deferred BEGIN would fail with 'locked'."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def read_then_write(index: int) -> None:
        try:
            barrier.wait()
            with transaction(engine) as conn:
                conn.execute(select(users.c.id)).all()
                make_user(conn, f"user{index}")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=read_then_write, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with transaction(engine) as conn:
        assert len(conn.execute(select(users.c.id)).all()) == 6
