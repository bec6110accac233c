"""SESSION_IDLE_TIMEOUT and SESSION_LIFETIME: NIST AAL2 defaults, checked ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsvc.settings import ConfigError, Settings


def test_defaults_are_nist_aal2(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
    assert (settings.session_idle_timeout, settings.session_lifetime) == (1800, 43_200)


def test_both_are_read(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "SESSION_IDLE_TIMEOUT": "600", "SESSION_LIFETIME": "3600"}
    settings = Settings.from_env(env)
    assert (settings.session_idle_timeout, settings.session_lifetime) == (600, 3600)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SESSION_IDLE_TIMEOUT": "59"}, "SESSION_IDLE_TIMEOUT"),
        ({"SESSION_IDLE_TIMEOUT": "half an hour"}, "SESSION_IDLE_TIMEOUT"),
        ({"SESSION_LIFETIME": "299"}, "SESSION_LIFETIME"),
        ({"SESSION_LIFETIME": str(30 * 86_400 + 1)}, "SESSION_LIFETIME"),
        ({"SESSION_IDLE_TIMEOUT": "7200", "SESSION_LIFETIME": "3600"}, "SESSION_IDLE_TIMEOUT"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], named: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env({"DATA_DIR": str(tmp_path), **env})
