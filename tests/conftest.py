"""Fixtures shared by the HTTP, hostile-input and storage tests.

The suite runs on a temporary SQLite file by default. With ``DATABASE_URL`` (PostgreSQL)
and ``REDIS_URL`` set, the same tests run against those real servers instead: the database
is migrated from empty once per run, every test starts with empty tables, and Redis keys
live under a prefix unique to the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text

from authsvc import create_app
from authsvc.settings import Settings
from authsvc.storage.db import upgrade
from tests.database import empty_tables

ORIGIN = "http://localhost:5000"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database for this test run."""
    url = os.environ.get("DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'authsvc.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def redis_prefix() -> str:
    return f"authsvc-test:{secrets.token_hex(6)}:"


@pytest.fixture
def settings(database_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        rp_id="localhost",
        rp_name="authsvc tests",
        origins=(ORIGIN,),
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        redis_prefix=redis_prefix,
        secret_key="test-secret-key-0123456789",
        # the suites make many requests from one address; tests/http/test_rate_limits*.py
        # turn limiting on with small limits of their own
        rate_limits=False,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    app.config["TESTING"] = True
    engine: Engine = app.extensions["authsvc"].engine
    empty_tables(engine)
    yield app
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
