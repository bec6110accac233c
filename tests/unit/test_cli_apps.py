"""``authsvc app add/list/remove``: the operator registers apps, audited with no actor."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from authsvc.cli import main
from mobile_bridge.apps import origin_of

UPLOAD = hashlib.sha256(b"upload").digest()
PLAY = hashlib.sha256(b"play").digest()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    return env


def _audit(env: dict[str, str]) -> list[tuple[str, str, str | None, int | None, str | None]]:
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT event, outcome, code, actor_user_id, detail FROM audit_events ORDER BY seq"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_add_list_remove_an_android_and_an_ios_app(env: dict[str, str]) -> None:
    runner = CliRunner()
    added = runner.invoke(
        main,
        [
            "app",
            "add",
            "--android",
            "com.example.app",
            "--fingerprint",
            UPLOAD.hex(":"),
            "--fingerprint",
            PLAY.hex(),
            "--name",
            "Example",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert "client secret (shown only now): " in added.output
    ios = runner.invoke(main, ["app", "add", "--ios", "ABCDE12345.com.example.app"], env=env)
    assert ios.exit_code == 0, ios.output
    listed = runner.invoke(main, ["app", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "com.example.app\tandroid\tExample" in listed.output
    assert "ABCDE12345.com.example.app\tios" in listed.output
    assert origin_of(UPLOAD) in listed.output and PLAY.hex(":").upper() in listed.output
    removed = runner.invoke(main, ["app", "remove", "com.example.app"], env=env)
    assert removed.exit_code == 0, removed.output
    again = runner.invoke(main, ["app", "remove", "com.example.app"], env=env)
    assert again.exit_code != 0 and "no app has this client id" in again.output
    events = _audit(env)
    assert [(e[0], e[1], e[3]) for e in events] == [
        ("admin.app.add", "success", None),
        ("admin.app.add", "success", None),
        ("admin.app.list", "success", None),
        ("admin.app.remove", "success", None),
    ]
    assert json.loads(events[0][4] or "{}")["by"] == "command line"
    assert runner.invoke(main, ["audit", "verify"], env=env).exit_code == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--ios", "ABCDE12345.com.x", "--android", "com.x"], "exactly one of"),
        ([], "exactly one of"),
        (["--android", "com.example.app"], "at least one --fingerprint"),
        (["--ios", "ABCDE12345.com.x", "--fingerprint", UPLOAD.hex()], "for Android apps"),
        (["--ios", "abcde12345.com.x"], "team ID"),
        (["--android", "example", "--fingerprint", UPLOAD.hex()], "package name"),
        (["--android", "com.example.app", "--fingerprint", "AB:CD"], "fingerprint"),
        (["--ios", "ABCDE12345.com.x", "--name", ""], "name"),
    ],
)
def test_bad_arguments_are_refused_with_the_rule(
    env: dict[str, str], args: list[str], says: str
) -> None:
    result = CliRunner().invoke(main, ["app", "add", *args], env=env)
    assert result.exit_code != 0
    assert says in result.output
    assert "client secret" not in result.output


def test_a_duplicate_is_refused_and_audited(env: dict[str, str]) -> None:
    runner = CliRunner()
    args = ["app", "add", "--android", "com.example.app", "--fingerprint", UPLOAD.hex()]
    assert runner.invoke(main, args, env=env).exit_code == 0
    other = ["app", "add", "--android", "com.example.other", "--fingerprint", UPLOAD.hex()]
    refused = runner.invoke(main, other, env=env)
    assert refused.exit_code != 0 and "exists" in refused.output
    assert _audit(env)[-1][:3] == ("admin.app.add", "failure", "conflict")
    assert "no apps" not in runner.invoke(main, ["app", "list"], env=env).output
