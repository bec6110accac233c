"""The ``authsvc`` command line: configuration check and migrations on a fresh database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from authsvc.cli import main
from authsvc.storage.repositories import create_user
from tests.unit.metadata.blobs import current_signer, entry, payload


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


def _with_user(env: dict[str, str], username: str) -> None:
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    engine = create_engine(env["DATABASE_URL"])
    with engine.begin() as conn:
        create_user(
            conn,
            username=username,
            display_name=username,
            user_handle=username.encode().ljust(32, b"\0"),
            created_at=datetime.now(UTC),
        )
    engine.dispose()


def test_admin_create_promotes_an_existing_user_and_audits(env: dict[str, str]) -> None:
    runner = CliRunner()
    _with_user(env, "ada")
    result = runner.invoke(main, ["admin", "create", "--username", "ada"], env=env)
    assert result.exit_code == 0, result.output
    assert "ada" in result.output
    again = runner.invoke(main, ["admin", "create", "--username", "ada"], env=env)
    assert again.exit_code != 0 and "already" in again.output
    missing = runner.invoke(main, ["admin", "create", "--username", "nobody"], env=env)
    assert missing.exit_code != 0 and "register a passkey" in missing.output
    verified = runner.invoke(main, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output


def test_admin_create_finds_the_user_in_any_case_or_width(env: dict[str, str]) -> None:
    runner = CliRunner()
    _with_user(env, "Ada")
    result = runner.invoke(main, ["admin", "create", "--username", "\uff21DA"], env=env)
    assert result.exit_code == 0, result.output
    refused = runner.invoke(main, ["admin", "create", "--username", "ada lovelace"], env=env)
    assert refused.exit_code != 0
    assert "username must not contain spaces" in refused.output


def test_audit_verify_names_the_first_tampered_event(env: dict[str, str]) -> None:
    runner = CliRunner()
    _with_user(env, "ada")
    runner.invoke(main, ["admin", "create", "--username", "ada"], env=env)
    runner.invoke(main, ["admin", "create", "--username", "ada"], env=env)
    engine = create_engine(env["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET code = NULL WHERE seq = 2"))
    engine.dispose()
    result = runner.invoke(main, ["audit", "verify"], env=env)
    assert result.exit_code != 0
    assert "seq 2" in result.output


def test_mds_refresh_stores_a_good_blob_and_refuses_a_bad_one(
    env: dict[str, str], tmp_path: Path
) -> None:
    signer = current_signer()
    root_file = tmp_path / "root.pem"
    root_file.write_bytes(signer.root_pem)
    good, bad = tmp_path / "good.jwt", tmp_path / "bad.jwt"
    blob = signer.sign(
        payload(
            [
                entry(
                    "CLI Key",
                    [("FIDO_CERTIFIED_L1", "2024-01-01")],
                    aaguid="0c0c0c0c-1111-4222-8333-444444444444",
                )
            ],
            no=9,
        )
    )
    good.write_bytes(blob)
    bad.write_bytes(blob[:-3] + (b"AAA" if blob[-3:] != b"AAA" else b"BBB"))
    env = {**env, "MDS_ROOT": str(root_file)}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    result = CliRunner().invoke(main, ["mds", "refresh", "--file", str(good)], env=env)
    assert result.exit_code == 0, result.output
    assert "no 9" in result.output
    refused = CliRunner().invoke(main, ["mds", "refresh", "--file", str(bad)], env=env)
    assert refused.exit_code != 0
    assert "refused" in refused.output
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM metadata_blobs")).scalar_one() == 1
    engine.dispose()
