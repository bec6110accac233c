"""``/api/v1/me``: a user's own account, sessions and passkeys, through HTTP."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.http.admin_flows import signed_in_admin
from tests.http.flows import Browser, advance_clock, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

ME = "/api/v1/me"
CREDENTIALS = "/api/v1/me/credentials"
UV = {"userVerification": "required"}


def _two_passkeys(client: FlaskClient) -> tuple[Browser, SoftAuthenticator, SoftAuthenticator]:
    browser, first, second = Browser(client), SoftAuthenticator(), SoftAuthenticator()
    assert browser.register(first, "ada").status_code == 200
    assert browser.register(second, "ada").status_code == 200
    return browser, first, second


def _credential_ids(browser: Browser) -> list[int]:
    listed = browser.call("GET", CREDENTIALS).json
    assert listed is not None
    return [c["id"] for c in listed["credentials"]]


def test_me_describes_the_account_and_session(client: FlaskClient) -> None:
    browser = Browser(client)
    problem(browser.call("GET", ME), "unauthenticated", 401)
    browser.register(SoftAuthenticator(), "ada")
    me = browser.call("GET", ME).json
    assert me is not None
    assert (me["username"], me["displayName"], me["role"]) == ("ada", "ada", "user")
    assert me["session"]["current"] is True
    assert set(me["session"]) >= {"signedInAt", "lastSeenAt", "expiresAt", "verifiedAt"}


def test_list_and_rename_own_passkeys(app: Flask, client: FlaskClient) -> None:
    browser, _, _ = _two_passkeys(client)
    first, second = _credential_ids(browser)
    listed = browser.call("GET", CREDENTIALS).json
    assert listed is not None
    assert [c["signedInThisSession"] for c in listed["credentials"]] == [True, False]
    renamed = browser.call("PATCH", f"{CREDENTIALS}/{second}", {"name": " Work key "})
    assert renamed.status_code == 200, renamed.json
    listed = browser.call("GET", CREDENTIALS).json
    assert listed is not None
    assert [c["name"] for c in listed["credentials"]] == [None, "Work key"]
    assert browser.call("PATCH", f"{CREDENTIALS}/{second}", {"name": None}).status_code == 200
    row = audit_rows(services(app).engine)[-1]
    assert (row["event"], row["outcome"], row["actor_user_id"]) == (
        "credential.rename",
        "success",
        row["user_id"],
    )
    for body in (
        {"name": ""},
        {"name": "x" * 65},
        {"name": "a\nb"},
        {"name": 3},
        {},
        {"name": "a", "x": 1},
    ):
        problem(browser.call("PATCH", f"{CREDENTIALS}/{first}", body), "malformed")


def test_renaming_and_deleting_need_a_step_up(app: Flask, client: FlaskClient) -> None:
    browser, first, _ = _two_passkeys(client)
    _, second = _credential_ids(browser)
    advance_clock(app, 301)
    problem(
        browser.call("PATCH", f"{CREDENTIALS}/{second}", {"name": "x"}), "step_up_required", 401
    )
    problem(browser.call("DELETE", f"{CREDENTIALS}/{second}"), "step_up_required", 401)
    row = audit_rows(services(app).engine)[-1]
    assert (row["event"], row["code"]) == ("credential.delete", "step_up_required")
    assert browser.sign_in(first, "ada", options_body=UV).status_code == 200
    assert browser.call("DELETE", f"{CREDENTIALS}/{second}").status_code == 204
    assert len(_credential_ids(browser)) == 1


def test_a_session_without_uv_cannot_rename_or_delete(app: Flask, client: FlaskClient) -> None:
    browser, first, _ = _two_passkeys(client)
    ids = _credential_ids(browser)
    first.uv = False
    walk_up = Browser(app.test_client())
    assert walk_up.sign_in(first, "ada").status_code == 200  # signed in, without UV
    problem(walk_up.call("DELETE", f"{CREDENTIALS}/{ids[1]}"), "step_up_required", 401)
    problem(
        walk_up.call("PATCH", f"{CREDENTIALS}/{ids[1]}", {"name": "x"}), "step_up_required", 401
    )
    assert len(_credential_ids(browser)) == 2


def test_deleting_the_passkey_that_signed_in_ends_its_sessions(
    app: Flask, client: FlaskClient
) -> None:
    browser, _, second = _two_passkeys(client)
    first_id, second_id = _credential_ids(browser)
    phone = Browser(app.test_client())
    assert phone.sign_in(second, "ada", options_body=UV).status_code == 200
    # the phone deletes the key the laptop signed in with: the laptop's session ends
    assert phone.call("DELETE", f"{CREDENTIALS}/{first_id}").status_code == 204
    problem(browser.call("GET", ME), "unauthenticated", 401)
    assert phone.call("GET", ME).status_code == 200
    row = audit_rows(services(app).engine)[-1]
    assert '"sessions_ended":1' in row["detail"]
    # the last active passkey is kept
    problem(phone.call("DELETE", f"{CREDENTIALS}/{second_id}"), "conflict", 409)


def test_another_users_passkey_is_not_found(app: Flask, client: FlaskClient) -> None:
    ada, _, _ = _two_passkeys(client)
    bob = Browser(app.test_client())
    bob.register(SoftAuthenticator(), "bob")
    theirs = _credential_ids(ada)[0]
    problem(bob.call("PATCH", f"{CREDENTIALS}/{theirs}", {"name": "mine"}), "not_found", 404)
    problem(bob.call("DELETE", f"{CREDENTIALS}/{theirs}"), "not_found", 404)
    problem(bob.call("DELETE", f"{CREDENTIALS}/999999"), "not_found", 404)
    assert len(_credential_ids(ada)) == 2


def test_the_passkey_cap_is_the_policys(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    capped = admin.call("POST", "/policies/default/versions", {"document": {"max_credentials": 2}})
    assert capped.status_code == 201, capped.json
    browser = Browser(app.test_client())
    keys = [SoftAuthenticator() for _ in range(3)]
    assert browser.register(keys[0], "ada").status_code == 200
    assert browser.register(keys[1], "ada").status_code == 200
    problem(
        browser.post("/attestation/options", {"username": "ada", "displayName": "ada"}),
        "conflict",
        409,
    )
    assert len(_credential_ids(browser)) == 2


def test_the_cap_is_checked_again_at_the_result(app: Flask) -> None:
    """Two option sets issued under the cap, both answered: only the first key is stored."""
    admin, _ = signed_in_admin(app)
    assert (
        admin.call(
            "POST", "/policies/default/versions", {"document": {"max_credentials": 2}}
        ).status_code
        == 201
    )
    laptop = Browser(app.test_client())
    first = SoftAuthenticator()
    laptop.register(first, "ada")
    phone = Browser(app.test_client())
    phone.sign_in(first, "ada", options_body=UV)
    on_laptop = laptop.registration_options("ada")
    on_phone = phone.registration_options("ada")
    ok = laptop.post(
        "/attestation/result", SoftAuthenticator().create(on_laptop, origin=laptop.origin)
    )
    assert ok.status_code == 200
    refused = phone.post(
        "/attestation/result", SoftAuthenticator().create(on_phone, origin=phone.origin)
    )
    problem(refused, "conflict", 409)
    assert len(_credential_ids(laptop)) == 2
