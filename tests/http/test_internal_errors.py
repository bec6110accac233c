"""The generic 500: an exception nobody foresaw becomes problem+json ``internal``.

A test-only route, added to the test app, writes a user inside the service's transaction
and then fails as a bug would. The response is the generic problem (no traceback, no
exception text), the traceback goes to the log, and the write is rolled back.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from authsvc.storage.db import transaction
from authsvc.storage.models import User
from tests.http.flows import Browser, problem, services
from tests.softauthn import SoftAuthenticator

SECRET = "s3cret-internal-state"


def _users(app: Flask) -> int:
    with services(app).engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(User)).scalar_one())


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    def half_done() -> str:
        with transaction(services(app).engine) as conn:
            conn.execute(
                insert(User).values(
                    username="partial",
                    username_canonical="partial",
                    display_name="partial",
                    user_handle=b"\x01" * 32,
                    created_at=datetime.now(UTC),
                )
            )
            raise RuntimeError(f"a bug holding {SECRET}")

    app.add_url_rule("/test-only/fail", "test_only_fail", half_done, methods=["POST"])
    return app


def test_an_unforeseen_exception_is_internal_logged_and_rolled_back(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Browser(failing_app.test_client())
    with caplog.at_level(logging.ERROR, logger="authsvc"):
        response = browser.post("/test-only/fail", {})
    body = problem(response, "internal", 500)
    assert body["status"] == 500
    text = response.get_data(as_text=True)
    assert SECRET not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    logged = [r for r in caplog.records if r.exc_info is not None]
    assert len(logged) == 1
    assert "/test-only/fail" in logged[0].getMessage()
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], RuntimeError)
    assert _users(failing_app) == 0


def test_the_service_still_answers_after_the_failure(failing_app: Flask) -> None:
    browser = Browser(failing_app.test_client())
    problem(browser.post("/test-only/fail", {}), "internal", 500)
    assert browser.register(SoftAuthenticator(), "ada").status_code == 200
    assert _users(failing_app) == 1
