"""The members the account page hands the Signal API: ``rpId``, ``userHandle``, ``credentialId``.

Each must be exactly what the browser's credential manager knows the passkey by (the
``user.id`` and ``rp.id`` of the creation options, the credential's ``rawId``), or a
``signalAllAcceptedCredentials`` would make it hide a passkey the account still accepts.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.http.flows import Browser
from tests.http.recovery_flows import USE_CODE, me, with_codes
from tests.softauthn import SoftAuthenticator

CREDENTIALS = "/api/v1/me/credentials"


def _register(browser: Browser, username: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The creation options and the registration response the service accepted."""
    options = browser.registration_options(username)
    response = SoftAuthenticator().create(options, origin=browser.origin)
    assert browser.post("/attestation/result", response).status_code == 200
    return options, response


def _listed(browser: Browser) -> list[dict[str, Any]]:
    found = browser.call("GET", CREDENTIALS).json
    assert found is not None
    listed: list[dict[str, Any]] = found["credentials"]
    return listed


def test_me_and_credentials_carry_what_the_signals_need(client: FlaskClient) -> None:
    browser = Browser(client)
    options, first = _register(browser, "ada")
    _, second = _register(browser, "ada")
    account = me(browser)
    assert account["rpId"] == options["rp"]["id"] == "localhost"
    assert account["userHandle"] == options["user"]["id"]
    assert [c["credentialId"] for c in _listed(browser)] == [first["rawId"], second["rawId"]]


def test_each_account_has_its_own_handle(client: FlaskClient, app: Flask) -> None:
    ada = Browser(client)
    bob = Browser(app.test_client())
    _register(ada, "ada")
    _register(bob, "bob")
    assert me(ada)["userHandle"] != me(bob)["userHandle"]


def test_a_recovered_session_knows_its_handle_too(app: Flask) -> None:
    """A recovered session has signed in with no credential: the handle is the account's."""
    owner, _, codes = with_codes(app)
    recovered = Browser(app.test_client())
    assert recovered.post(USE_CODE, {"username": "ada", "code": codes[0]}).status_code == 200
    assert me(recovered)["userHandle"] == me(owner)["userHandle"]
    assert [c["credentialId"] for c in _listed(recovered)] == [
        c["credentialId"] for c in _listed(owner)
    ]
