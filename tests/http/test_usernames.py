"""Usernames are one name in every case and width (RFC 8265), and shown as first typed."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from authsvc.encoding import b64url_encode
from authsvc.storage.models import users
from tests.http.flows import Browser, problem, services, stored_state
from tests.softauthn import SoftAuthenticator

FULL_WIDTH_F = "\uff26"
LOOK_ALIKES = ["Fold-x", "FOLD-x", f"{FULL_WIDTH_F}old-x"]


def _browser(app: Flask) -> Browser:
    """A browser of its own: a new cookie session, signed in as nobody."""
    return Browser(app.test_client())


def _stored_names(app: Flask) -> list[tuple[str, str]]:
    with services(app).engine.connect() as conn:
        rows = conn.execute(select(users.c.username, users.c.username_canonical))
        return [(row.username, row.username_canonical) for row in rows]


@pytest.mark.parametrize("look_alike", LOOK_ALIKES)
def test_a_look_alike_of_a_registered_username_is_taken(app: Flask, look_alike: str) -> None:
    assert _browser(app).register(SoftAuthenticator(), "fold-x").status_code == 200
    before = stored_state(services(app).engine)
    response = _browser(app).post(
        "/attestation/options", {"username": look_alike, "displayName": "Mallory"}
    )
    body = problem(response, "conflict", 409)
    assert look_alike not in body["detail"]
    assert stored_state(services(app).engine) == before


def test_two_look_alikes_racing_to_register_make_one_account(app: Flask) -> None:
    """Both get options while neither exists; the unique canonical form refuses the second."""
    first, second = _browser(app), _browser(app)
    first_auth, second_auth = SoftAuthenticator(), SoftAuthenticator()
    first_options = first.registration_options("fold-x")
    second_options = second.registration_options("FOLD-x")
    created = first.post(
        "/attestation/result", first_auth.create(first_options, origin=first.origin)
    )
    assert created.status_code == 200, created.json
    late = second.post(
        "/attestation/result", second_auth.create(second_options, origin=second.origin)
    )
    problem(late, "conflict", 409)
    assert _stored_names(app) == [("fold-x", "fold-x")]


@pytest.mark.parametrize("typed", ["FOLD-x", f"{FULL_WIDTH_F}old-x", "fold-X"])
def test_signing_in_with_any_look_alike_finds_the_account(app: Flask, typed: str) -> None:
    auth = SoftAuthenticator()
    assert _browser(app).register(auth, "fold-x").status_code == 200
    browser = _browser(app)
    expected = browser.assertion_options("fold-x")["allowCredentials"]
    assert [c["id"] for c in expected] == [b64url_encode(c.credential_id) for c in auth.credentials]
    assert browser.assertion_options(typed)["allowCredentials"] == expected
    signed_in = browser.sign_in(auth, typed)
    assert signed_in.status_code == 200, signed_in.json


def test_the_username_is_shown_as_the_first_registration_typed_it(app: Flask) -> None:
    browser = _browser(app)
    options = browser.registration_options(f"{FULL_WIDTH_F}old-X")
    assert options["user"]["name"] == f"{FULL_WIDTH_F}old-X"
    auth = SoftAuthenticator()
    created = browser.post("/attestation/result", auth.create(options, origin=browser.origin))
    assert created.status_code == 200, created.json
    assert _stored_names(app) == [(f"{FULL_WIDTH_F}old-X", "fold-x")]


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("ada lovelace", "must not contain spaces"),
        ("ada\u200b", "invisible"),
        ("ada\U0001f600", "symbols"),
        ("\ufb01le", "compatibility"),
        ("abc\u05d0", "Bidi"),
        ("\u0130" * 33, "once lower-cased"),
    ],
)
@pytest.mark.parametrize("endpoint", ["/attestation/options", "/assertion/options"])
def test_what_rfc_8265_refuses_is_malformed_without_echo(
    app: Flask, endpoint: str, typed: str, reason: str
) -> None:
    before = stored_state(services(app).engine)
    response = _browser(app).post(endpoint, {"username": typed, "displayName": "Ada"})
    body = problem(response, "malformed")
    assert reason in body["detail"]
    assert typed not in body["detail"]
    assert stored_state(services(app).engine) == before


def test_the_display_name_keeps_its_own_rules(app: Flask) -> None:
    """Not a username: spaces and any script are fine, only disguising characters are not."""
    options = _browser(app).registration_options("ada", displayName="Ada Lovelace \u00e9\u263a")
    assert options["user"]["displayName"] == "Ada Lovelace \u00e9\u263a"
    refused = _browser(app).post(
        "/attestation/options", {"username": "ada", "displayName": "Ada\u202e"}
    )
    problem(refused, "malformed")


def test_a_passkey_added_under_a_look_alike_gets_the_accounts_own_name(app: Flask) -> None:
    browser = Browser(app.test_client())
    assert browser.register(SoftAuthenticator(), "fold-x").status_code == 200  # UV: stepped up
    options = browser.registration_options("FOLD-x")
    assert options["user"]["name"] == "fold-x"
