"""The README's native-app walk-through, run as a developer runs it: against a real HTTP
server, the operator's steps through the ``authsvc`` command on the same database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from authsvc.settings import Settings
from tests.browser.live import serve
from tests.walkthrough import Walkthrough


def test_the_native_app_walkthrough_completes(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    cli = [sys.executable, "-m", "authsvc.cli"]
    with serve(settings) as server:
        walk = Walkthrough(server.origin, cli)
        walk.run()
    said = "\n".join(walk.out)
    assert said.count('← 201 {"credential"') == 2  # a passkey for each app
    assert "origin_mismatch" in said.splitlines()[-1]  # the removed app, refused
