"""Drive the ceremony endpoints the way a browser does: options, authenticator, result."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text
from werkzeug.test import TestResponse

from authsvc.services.context import Services
from authsvc.storage.models import AuditEvent, Credential, User
from tests.conftest import ORIGIN
from tests.softauthn import SoftAuthenticator, SoftCredential


def services(app: Flask) -> Services:
    svc: Services = app.extensions["authsvc"]
    return svc


@dataclass
class Browser:
    """One cookie session talking to the service from ``origin``."""

    client: FlaskClient
    origin: str = ORIGIN

    def post(self, path: str, body: object) -> TestResponse:
        return self.client.post(path, json=body, headers={"Origin": self.origin})

    def registration_options(self, username: str, **body: Any) -> dict[str, Any]:
        response = self.post(
            "/attestation/options", {"username": username, "displayName": username, **body}
        )
        assert response.status_code == 200, response.json
        options: dict[str, Any] = response.json  # type: ignore[assignment]
        return options

    def register(
        self,
        auth: SoftAuthenticator,
        username: str,
        options_body: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> TestResponse:
        options = self.registration_options(username, **(options_body or {}))
        return self.post(
            "/attestation/result", auth.create(options, origin=self.origin, **overrides)
        )

    def call(self, method: str, path: str, body: object | None = None) -> TestResponse:
        """Any request from this browser, JSON body optional (the account and admin APIs)."""
        kwargs: dict[str, Any] = {"headers": {"Origin": self.origin}}
        if body is not None:
            kwargs["json"] = body
        return self.client.open(path, method=method, **kwargs)

    def session_id(self) -> str | None:
        """What the session cookie holds now (the opaque id), if there is one."""
        cookie = self.client.get_cookie("session")
        return None if cookie is None else cookie.value

    def replay(self, session_id: str) -> None:
        """Put a cookie value seen earlier back, as an attacker who copied it would."""
        self.client.set_cookie("session", session_id, domain="localhost")

    def assertion_options(self, username: str | None = None, **body: Any) -> dict[str, Any]:
        payload: dict[str, Any] = dict(body)
        if username is not None:
            payload["username"] = username
        response = self.post("/assertion/options", payload)
        assert response.status_code == 200, response.json
        options: dict[str, Any] = response.json  # type: ignore[assignment]
        return options

    def sign_in(
        self,
        auth: SoftAuthenticator,
        username: str | None = None,
        credential: SoftCredential | None = None,
        options_body: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> TestResponse:
        options = self.assertion_options(username, **(options_body or {}))
        return self.post(
            "/assertion/result",
            auth.get(options, origin=self.origin, credential=credential, **overrides),
        )


def stored_state(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Users and credentials exactly as stored: what a failed ceremony must leave unchanged."""
    with engine.connect() as conn:
        users = [tuple(r) for r in conn.execute(select(User.__table__).order_by(User.id))]
        creds = [
            tuple(r) for r in conn.execute(select(Credential.__table__).order_by(Credential.id))
        ]
    return users, creds


def audit_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.__table__).order_by(AuditEvent.id))
        return [dict(r._mapping) for r in rows]


def challenge_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM challenges")).scalar_one())


def problem(response: TestResponse, code: str, status: int = 400) -> dict[str, Any]:
    """Assert ``response`` is the problem+json of ``code`` and return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    assert body["code"] == code, body
    return body


def advance_clock(app: Flask, seconds: float) -> None:
    """Move the service's clock (ceremony expiry, step-up age) forward."""
    svc = services(app)
    base = svc.clock
    app.extensions["authsvc"] = dataclasses.replace(svc, clock=lambda: base() + seconds)
