"""Storage fixtures: a migrated database, emptied before each test, and each challenge store.

SQLite (a temporary file, so WAL and cross-connection locking are real) unless
``DATABASE_URL`` names another database, which is then wiped (``DROP SCHEMA public
CASCADE`` on PostgreSQL) and migrated once per run. Tests commit for real, because several
of them race threads with their own transactions, so tables are emptied instead of rolled
back. With ``REDIS_URL`` set, every challenge-store test also runs against Redis, under a
random key prefix that is cleaned up afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine, text

from authsvc.storage.challenges import ChallengeStore, RedisChallengeStore, SqlChallengeStore
from authsvc.storage.db import create_db_engine, upgrade
from authsvc.storage.models import Base
from tests.database import empty_tables

REDIS_URL = os.environ.get("REDIS_URL") or None
STORE_KINDS = [
    pytest.param("sql", id="sql"),
    *([pytest.param("redis", id="redis", marks=pytest.mark.redis)] if REDIS_URL else []),
]


def wipe_database(url: str) -> None:
    """Drop everything, so the run starts from an empty database as a new deployment would."""
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            else:
                Base.metadata.drop_all(conn)
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def storage_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a database migrated to head for this run."""
    url = os.environ.get("DATABASE_URL") or None
    if url is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('storage') / 'authsvc.db'}"
    else:
        wipe_database(url)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def session_engine(storage_url: str) -> Iterator[Engine]:
    engine = create_db_engine(storage_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(session_engine: Engine) -> Engine:
    """The migrated database with every table empty (but the built-in default policy)."""
    empty_tables(session_engine)
    return session_engine


@pytest.fixture
def dialect(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    if REDIS_URL is None:
        pytest.skip("REDIS_URL is not set")
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture(params=STORE_KINDS)
def challenge_store(request: pytest.FixtureRequest, engine: Engine) -> Iterator[ChallengeStore]:
    """Each configured challenge store, empty."""
    if request.param == "sql":
        yield SqlChallengeStore(engine)
        return
    assert REDIS_URL is not None
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"authsvc-test:{secrets.token_hex(8)}:"
    try:
        yield RedisChallengeStore(client, prefix)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
