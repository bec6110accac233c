"""A ceremony embedded in a cross-origin iframe under a TOP_ORIGINS page: accepted, audited.

clientData ``crossOrigin`` true is accepted only with a ``topOrigin`` the RP lets embed it;
the audit row of the accepted ceremony names that top origin, so an embed is never silent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from authsvc import create_app
from authsvc.settings import Settings
from tests.conftest import ORIGIN
from tests.database import empty_tables
from tests.http.flows import Browser, audit_rows, problem, services, stored_state
from tests.softauthn import SoftAuthenticator

TOP = "https://shop.example"


@pytest.fixture
def embeddable(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings.with_changes(top_origins=(TOP,)))
    app.config["TESTING"] = True
    empty_tables(services(app).engine)
    yield app
    services(app).engine.dispose()


def _last(app: Flask) -> tuple[dict[str, Any], dict[str, Any]]:
    row = audit_rows(services(app).engine)[-1]
    return row, json.loads(row["detail"]) if row["detail"] else {}


def test_an_embedded_registration_and_sign_in_are_accepted_and_audited(embeddable: Flask) -> None:
    browser, auth = Browser(embeddable.test_client()), SoftAuthenticator()
    embed: dict[str, Any] = {"cross_origin": True, "top_origin": TOP}
    response = browser.register(auth, "ada", **embed)
    assert response.status_code == 200, response.get_data(as_text=True)
    row, detail = _last(embeddable)
    assert (row["event"], row["outcome"], row["origin"]) == ("registration", "success", ORIGIN)
    assert detail["top_origin"] == TOP
    _, credentials = stored_state(services(embeddable).engine)
    assert len(credentials) == 1

    response = browser.sign_in(auth, "ada", **embed)
    assert response.status_code == 200, response.get_data(as_text=True)
    row, detail = _last(embeddable)
    assert (row["event"], row["outcome"], row["origin"]) == ("authentication", "success", ORIGIN)
    assert detail["top_origin"] == TOP


def test_a_registration_embedded_elsewhere_is_refused_and_stores_nothing(
    embeddable: Flask,
) -> None:
    browser, auth = Browser(embeddable.test_client()), SoftAuthenticator()
    refused = browser.register(auth, "ada", cross_origin=True, top_origin="https://evil.example")
    problem(refused, "origin_mismatch")
    row, detail = _last(embeddable)
    assert (row["event"], row["outcome"], row["code"]) == (
        "registration",
        "failure",
        "origin_mismatch",
    )
    assert "top_origin" not in detail
    assert stored_state(services(embeddable).engine) == ([], [])
