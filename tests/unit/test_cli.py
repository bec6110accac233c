"""The ``authsvc`` command line: configuration check and migrations on a fresh database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

from authsvc.cli import main


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}


def test_check_config_prints_settings_without_secrets(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main,
        ["check-config"],
        env={
            **env,
            "SECRET_KEY": "a-very-secret-value-123",
            "REDIS_URL": "redis://user:hunter2@localhost:6379/0",
        },
    )
    assert result.exit_code == 0, result.output
    assert "rp_id = localhost" in result.output
    assert "a-very-secret-value-123" not in result.output
    assert "hunter2" not in result.output
    assert "configuration is valid" in result.output


def test_check_config_fails_naming_the_variable(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["check-config"], env={**env, "PORT": "none"})
    assert result.exit_code != 0
    assert "PORT" in result.output


def test_db_upgrade_creates_the_schema_and_is_idempotent(
    env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["db", "upgrade"], env=env)
        assert result.exit_code == 0, result.output
    tables = set(inspect(create_engine(env["DATABASE_URL"])).get_table_names())
    assert {"users", "credentials", "challenges", "audit_events", "alembic_version"} <= tables
