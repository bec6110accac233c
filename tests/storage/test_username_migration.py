"""Migration 0004 folds stored usernames, and refuses (changing nothing) when it cannot.

Each test starts from a database of its own at revision 0003 with users and passkeys in it,
as a deployment upgrading to this release has, on SQLite or on PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect, make_url, text
from sqlalchemy.exc import IntegrityError

from authsvc.errors import Malformed
from authsvc.storage.db import (
    MIGRATIONS_DIR,
    alembic_config,
    create_db_engine,
    migration_transaction,
    upgrade,
)
from authsvc.usernames import canonical

FULL_WIDTH_F = "\uff26"
SMILE = "smile\U0001f600"

# The tables as revision 0003 left them (not the models, which are at head).
_users = sa.table(
    "users",
    sa.column("id", sa.Integer()),
    sa.column("username", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("user_handle", sa.LargeBinary()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_credentials = sa.table(
    "credentials",
    sa.column("credential_id", sa.LargeBinary()),
    sa.column("user_id", sa.Integer()),
    sa.column("public_key", sa.LargeBinary()),
    sa.column("algorithm", sa.Integer()),
    sa.column("aaguid", sa.LargeBinary()),
    sa.column("fmt", sa.String()),
    sa.column("attestation_type", sa.String()),
    sa.column("trust", sa.String()),
    sa.column("transports", sa.Text()),
    sa.column("backup_eligible", sa.Boolean()),
    sa.column("backed_up", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _revision_0004() -> ModuleType:
    path = MIGRATIONS_DIR / "versions" / "0004_usernames.py"
    spec = importlib.util.spec_from_file_location("revision_0004", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REVISION_0004 = _revision_0004()


@pytest.fixture
def at_0003(tmp_path: Path, engine: Engine) -> Iterator[Engine]:
    """A database of its own, migrated to 0003: a new SQLite file or PostgreSQL database."""
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'at_0003.db'}"
        admin = None
    else:
        base = make_url(os.environ["DATABASE_URL"])
        name = f"{base.database}_usernames"
        admin = create_db_engine(base).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url, "0003")
    at = create_db_engine(url)
    yield at
    at.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def _add_users(engine: Engine, usernames: list[str]) -> dict[str, int]:
    """Insert users as 0003 stored them, each with one passkey; return their ids by name."""
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        for n, username in enumerate(usernames):
            user_id: int = conn.execute(
                sa.insert(_users)
                .values(
                    username=username,
                    display_name=username[:64],
                    user_handle=n.to_bytes(32, "big"),
                    created_at=now,
                )
                .returning(_users.c.id)
            ).scalar_one()
            ids[username] = user_id
        conn.execute(
            sa.insert(_credentials),
            [
                {
                    "credential_id": b"cred-%d" % user_id,
                    "user_id": user_id,
                    "public_key": b"cose-%d" % user_id,
                    "algorithm": -7,
                    "aaguid": bytes(16),
                    "fmt": "none",
                    "attestation_type": "none",
                    "trust": "none",
                    "transports": '["internal"]',
                    "backup_eligible": True,
                    "backed_up": False,
                    "created_at": now,
                }
                for user_id in ids.values()
            ],
        )
    return ids


def _snapshot(engine: Engine) -> dict[str, Any]:
    """Everything 0004 could touch: rows of users and credentials, and users' schema."""
    with engine.connect() as conn:
        tables = {
            name: [tuple(row) for row in conn.execute(text(query))]
            for name, query in (
                ("users", "SELECT * FROM users ORDER BY id"),
                ("credentials", "SELECT * FROM credentials ORDER BY id"),
            )
        }
        revision = MigrationContext.configure(conn).get_current_revision()
    inspector = inspect(engine)
    return {
        **tables,
        "revision": revision,
        "columns": [c["name"] for c in inspector.get_columns("users")],
        "unique": sorted(str(uq["name"]) for uq in inspector.get_unique_constraints("users")),
    }


def _canonical_column(engine: Engine) -> dict[int, tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, username, username_canonical FROM users"))
        return {row[0]: (row[1], row[2]) for row in rows}


def test_rows_are_folded_and_passkeys_kept(at_0003: Engine) -> None:
    """Over two batches of rows; the typed form stays, the canonical one is added."""
    special = ["Ada", f"{FULL_WIDTH_F}old-x", "bob@example.com", "\u0130stanbul"]
    bulk = [f"User-{n:04d}" for n in range(1500)]
    ids = _add_users(at_0003, special + bulk)
    before = _snapshot(at_0003)

    upgrade(at_0003, "0004")

    after = _snapshot(at_0003)
    assert after["revision"] == "0004"
    assert after["credentials"] == before["credentials"]  # every passkey, byte for byte
    assert after["unique"] == ["uq_users_user_handle", "uq_users_username_canonical"]
    stored = _canonical_column(at_0003)
    assert stored[ids["Ada"]] == ("Ada", "ada")
    assert stored[ids[f"{FULL_WIDTH_F}old-x"]] == (f"{FULL_WIDTH_F}old-x", "fold-x")
    assert stored[ids["\u0130stanbul"]] == ("\u0130stanbul", "i\u0307stanbul")
    assert stored[ids["User-1499"]] == ("User-1499", "user-1499")
    assert all(value == canonical(typed) for typed, value in stored.values())
    with at_0003.connect() as conn:
        nullable = {c["name"]: c["nullable"] for c in inspect(conn).get_columns("users")}
        assert nullable["username_canonical"] is False
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def test_the_canonical_form_is_unique_after_the_upgrade(at_0003: Engine) -> None:
    _add_users(at_0003, ["ada"])
    upgrade(at_0003, "0004")
    users_0004 = sa.table(
        "users",
        sa.column("username", sa.String()),
        sa.column("username_canonical", sa.String()),
        sa.column("display_name", sa.String()),
        sa.column("user_handle", sa.LargeBinary()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    with pytest.raises(IntegrityError), at_0003.begin() as conn:
        conn.execute(
            sa.insert(users_0004).values(
                username="ADA",
                username_canonical="ada",
                display_name="ADA",
                user_handle=b"\x01" * 32,
                created_at=datetime.now(UTC),
            )
        )


def test_upgrade_then_downgrade_gives_0003_back(at_0003: Engine) -> None:
    _add_users(at_0003, ["Ada", "bob"])
    before = _snapshot(at_0003)
    upgrade(at_0003, "0004")
    with migration_transaction(at_0003) as conn:
        command.downgrade(alembic_config(conn), "0003")
    assert _snapshot(at_0003) == before


def test_colliding_usernames_stop_the_upgrade_and_change_nothing(at_0003: Engine) -> None:
    ids = _add_users(
        at_0003, ["fold-x", "Fold-x", "FOLD-x", f"{FULL_WIDTH_F}old-x", "Ada", "ada", "carol"]
    )
    before = _snapshot(at_0003)

    with pytest.raises(RuntimeError) as err:
        upgrade(at_0003, "0004")

    assert type(err.value).__name__ == "UsernameFoldingRefused"
    report = str(err.value)
    for name in ("fold-x", "Fold-x", "FOLD-x", "Ada", "ada"):
        assert f"user id {ids[name]} {name!a}" in report
    assert f"user id {ids[FULL_WIDTH_F + 'old-x']} '\\uff26old-x'" in report  # visibly apart
    assert "carol" not in report
    assert "'fold-x': " in report
    assert "'ada': " in report
    assert "still at revision 0003" in report
    assert "UPDATE users SET username" in report
    assert _snapshot(at_0003) == before


def test_usernames_the_profile_refuses_stop_the_upgrade(at_0003: Engine) -> None:
    ids = _add_users(at_0003, ["ada lovelace", SMILE, "\u0130" * 40, "fine"])
    before = _snapshot(at_0003)

    with pytest.raises(RuntimeError) as err:
        upgrade(at_0003, "0004")

    report = str(err.value)
    assert f"user id {ids['ada lovelace']} 'ada lovelace': refused" in report
    assert "DISALLOWED/spaces" in report
    assert f"user id {ids[SMILE]} 'smile\\U0001f600'" in report
    assert "once lower-cased" in report
    assert "fine" not in report
    assert _snapshot(at_0003) == before


def test_the_repaired_database_upgrades(at_0003: Engine) -> None:
    """The report's advice works: rename one of the pair, and the upgrade goes through."""
    ids = _add_users(at_0003, ["Ada", "ada"])
    with pytest.raises(RuntimeError):
        upgrade(at_0003, "0004")
    with at_0003.begin() as conn:
        conn.execute(text("UPDATE users SET username = 'ada-2' WHERE id = :id"), {"id": ids["Ada"]})
    upgrade(at_0003, "0004")
    assert _canonical_column(at_0003)[ids["Ada"]] == ("ada-2", "ada-2")


@given(st.text(max_size=70))
def test_the_revision_folds_exactly_as_the_service(typed: str) -> None:
    """0004 copied the service's call; if the service ever folds otherwise, this fails, and
    a new revision must refold ``users.username_canonical``."""
    folded, why = REVISION_0004._canonical(typed)
    try:
        expected = canonical(typed)
    except Malformed:
        assert folded is None
        assert why
        return
    assert folded == expected
