"""Helpers for the recovery tests: an account with codes, a user's id, audit rows by event."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from authsvc.storage.models import users
from tests.http.flows import Browser, audit_rows, services
from tests.softauthn import SoftAuthenticator

CODES = "/api/v1/me/recovery-codes"
USE_CODE = "/api/v1/recovery/code"
USE_LINK = "/api/v1/recovery/link"
ME = "/api/v1/me"


def with_codes(app: Flask, username: str = "ada") -> tuple[Browser, SoftAuthenticator, list[str]]:
    """``username`` signs up with UV (so is stepped up) and makes a set of recovery codes."""
    browser, auth = Browser(app.test_client()), SoftAuthenticator()
    assert browser.register(auth, username).status_code == 200
    made = browser.call("POST", CODES)
    assert made.status_code == 201, made.json
    assert made.json is not None
    codes: list[str] = made.json["codes"]
    return browser, auth, codes


def user_id(app: Flask, username: str) -> int:
    with services(app).engine.connect() as conn:
        found: int = conn.execute(
            select(users.c.id).where(users.c.username == username)
        ).scalar_one()
    return found


def events(app: Flask, event: str) -> list[dict[str, Any]]:
    return [r for r in audit_rows(services(app).engine) if r["event"] == event]


def me(browser: Browser) -> dict[str, Any]:
    response = browser.call("GET", ME)
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body
