"""The audit ``origin`` is the verified clientData origin, never the request's header.

A script can send any ``Origin`` header it likes; what the tamper-evident log calls the
origin must be what the ceremony checked. The header is kept apart, as ``claimed_origin``.
The service here accepts two origins, so a request may claim one while its clientData
(what the authenticator signed over) names the other, and cross-site guards let it by.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fido2.webauthn import AuthenticatorData
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from authsvc import create_app
from authsvc.services.operations import promote_admin
from authsvc.settings import Settings
from tests.conftest import ORIGIN
from tests.database import empty_tables
from tests.http.flows import audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

OTHER = "http://localhost:5001"
TOP = "http://localhost:5002"
FLAG = AuthenticatorData.FLAG


@pytest.fixture
def two_origin_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings.with_changes(origins=(ORIGIN, OTHER), top_origins=(TOP,)))
    app.config["TESTING"] = True
    empty_tables(services(app).engine)
    yield app
    services(app).engine.dispose()


def _post(client: FlaskClient, path: str, body: object, header: str | None) -> TestResponse:
    headers = {} if header is None else {"Origin": header}
    return client.post(path, json=body, headers=headers)


def _options(client: FlaskClient, path: str, body: object, header: str | None) -> Any:
    response = _post(client, path, body, header)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def _register(client: FlaskClient, auth: SoftAuthenticator, header: str | None) -> TestResponse:
    options = _options(
        client, "/attestation/options", {"username": "ada", "displayName": "Ada"}, header
    )
    return _post(client, "/attestation/result", auth.create(options, origin=ORIGIN), header)


def _sign_in(
    client: FlaskClient, auth: SoftAuthenticator, header: str | None, **overrides: Any
) -> TestResponse:
    options = _options(client, "/assertion/options", {"username": "ada"}, header)
    return _post(client, "/assertion/result", auth.get(options, origin=ORIGIN, **overrides), header)


def _last(app: Flask) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """The newest audit row's origin, decoded detail and the row itself."""
    row = audit_rows(services(app).engine)[-1]
    detail: dict[str, Any] = json.loads(row["detail"]) if row["detail"] else {}
    return row["origin"], detail, row


def test_ceremonies_record_the_client_data_origin_and_the_header_as_claimed(
    two_origin_app: Flask,
) -> None:
    client, auth = two_origin_app.test_client(), SoftAuthenticator()
    assert _register(client, auth, OTHER).status_code == 200
    origin, detail, row = _last(two_origin_app)
    assert (row["event"], row["outcome"]) == ("registration", "success")
    assert origin == ORIGIN and detail["claimed_origin"] == OTHER
    assert _sign_in(client, auth, OTHER).status_code == 200
    origin, detail, row = _last(two_origin_app)
    assert (row["event"], row["outcome"]) == ("authentication", "success")
    assert origin == ORIGIN and detail["claimed_origin"] == OTHER
    assert "top_origin" not in detail


def test_without_an_origin_header_nothing_is_claimed(two_origin_app: Flask) -> None:
    client, auth = two_origin_app.test_client(), SoftAuthenticator()
    assert _register(client, auth, None).status_code == 200
    assert _sign_in(client, auth, None).status_code == 200
    origin, detail, _ = _last(two_origin_app)
    assert origin == ORIGIN and "claimed_origin" not in detail


def test_the_verified_top_origin_is_recorded(two_origin_app: Flask) -> None:
    client, auth = two_origin_app.test_client(), SoftAuthenticator()
    assert _register(client, auth, ORIGIN).status_code == 200
    response = _sign_in(client, auth, ORIGIN, cross_origin=True, top_origin=TOP)
    assert response.status_code == 200, response.get_data(as_text=True)
    origin, detail, _ = _last(two_origin_app)
    assert origin == ORIGIN and detail["top_origin"] == TOP


@pytest.mark.parametrize(
    ("code", "overrides"),
    [
        ("type_mismatch", {"client_type": "webauthn.create"}),
        ("challenge_mismatch", {"challenge": b"\x01" * 32}),
        ("origin_mismatch", {"origin_in_client_data": "https://evil.example"}),
        ("origin_mismatch", {"cross_origin": True, "top_origin": "https://evil.example"}),
        ("credential_unknown", {"credential_id": b"\x05" * 16}),
        ("user_handle_mismatch", {"user_handle": b"\x09" * 16}),
    ],
)
def test_a_failure_before_the_origin_check_records_no_origin(
    two_origin_app: Flask, code: str, overrides: dict[str, Any]
) -> None:
    client, auth = two_origin_app.test_client(), SoftAuthenticator()
    assert _register(client, auth, OTHER).status_code == 200
    problem(_sign_in(client, auth, OTHER, **overrides), code)
    origin, detail, row = _last(two_origin_app)
    assert (row["event"], row["code"]) == ("authentication", code)
    assert origin is None and detail["claimed_origin"] == OTHER
    assert "top_origin" not in detail


def test_a_failure_after_the_origin_check_records_the_checked_origin(
    two_origin_app: Flask,
) -> None:
    client, auth = two_origin_app.test_client(), SoftAuthenticator()
    assert _register(client, auth, OTHER).status_code == 200
    problem(_sign_in(client, auth, OTHER, flags_clear=FLAG.UP), "user_not_present")
    origin, detail, _ = _last(two_origin_app)
    assert origin == ORIGIN and detail["claimed_origin"] == OTHER


def test_a_result_without_a_ceremony_records_no_origin(two_origin_app: Flask) -> None:
    """Whether or not such a refusal reaches the log, it never carries an origin."""
    client, auth = two_origin_app.test_client(), SoftAuthenticator()
    assert _register(client, auth, None).status_code == 200
    other_session = two_origin_app.test_client()
    options = _options(other_session, "/assertion/options", {"username": "ada"}, None)
    body = auth.get(options, origin=ORIGIN)
    before = len(audit_rows(services(two_origin_app).engine))
    problem(_post(client, "/assertion/result", body, OTHER), "challenge_unknown")
    new = audit_rows(services(two_origin_app).engine)[before:]
    assert len(new) <= 1
    for row in new:
        assert row["origin"] is None and json.loads(row["detail"])["claimed_origin"] == OTHER


def test_events_that_are_no_ceremony_have_only_a_claimed_origin(two_origin_app: Flask) -> None:
    client, auth = two_origin_app.test_client(), SoftAuthenticator()
    assert _register(client, auth, ORIGIN).status_code == 200
    assert _sign_in(client, auth, ORIGIN).status_code == 200
    response = client.get("/api/v1/admin/users", headers={"Origin": OTHER})
    problem(response, "forbidden", 403)  # signed in, not an admin: refused and audited
    origin, detail, row = _last(two_origin_app)
    assert row["event"].startswith("admin.") and row["code"] == "forbidden"
    assert origin is None and detail["claimed_origin"] == OTHER
    promote_admin(services(two_origin_app), "ada")  # the command line claims nothing
    origin, detail, row = _last(two_origin_app)
    assert row["outcome"] == "success" and origin is None and "claimed_origin" not in detail
