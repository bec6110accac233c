"""Step-up for account changes: a fresh user-verified assertion on this very session.

A session signed in without user verification (a walk-up browser, a stolen cookie) cannot
add a passkey to its account; one that verified recently can. A step-up is a new
assertion on a signed-in session: it rotates the id and keeps the sign-in's lifetime.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.http.flows import Browser, advance_clock, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

ME = "/api/v1/me"
UV = {"userVerification": "required"}


def _no_uv_session(client: FlaskClient) -> tuple[Browser, SoftAuthenticator]:
    """Ada signs up with an authenticator that does not verify her: a session without UV."""
    browser, auth = Browser(client), SoftAuthenticator(uv=False)
    assert browser.register(auth, "ada").status_code == 200
    return browser, auth


def _credentials(app: Flask) -> int:
    with services(app).engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM credentials").scalar_one())


def test_a_session_without_uv_cannot_add_a_passkey(app: Flask, client: FlaskClient) -> None:
    browser, _ = _no_uv_session(client)
    response = browser.post("/attestation/options", {"username": "ada", "displayName": "ada"})
    problem(response, "step_up_required", 401)
    assert _credentials(app) == 1


def test_a_uv_session_can_add_a_passkey(app: Flask, client: FlaskClient) -> None:
    browser, auth = Browser(client), SoftAuthenticator()
    assert browser.register(auth, "ada").status_code == 200  # sign-up with UV: stepped up
    second = SoftAuthenticator()
    added = browser.register(second, "ada")
    assert added.status_code == 200, added.json
    assert _credentials(app) == 2
    assert browser.call("GET", ME).status_code == 200  # adding keeps the session
    assert browser.sign_in(second, "ada").status_code == 200


def test_step_up_rotates_the_id_and_enables_account_changes(
    app: Flask, client: FlaskClient
) -> None:
    browser, auth = _no_uv_session(client)
    before = browser.session_id()
    me = browser.call("GET", ME).json
    assert me is not None
    signed_in_at = me["session"]["signedInAt"]
    advance_clock(app, 10)
    auth.uv = True  # Ada now verifies (she set up a PIN)
    stepped = browser.sign_in(auth, "ada", options_body=UV)
    assert stepped.status_code == 200, stepped.json
    after = browser.session_id()
    assert after is not None and after != before
    me = browser.call("GET", ME).json
    assert me is not None
    assert me["session"]["signedInAt"] == signed_in_at  # the lifetime runs from sign-in
    assert me["session"]["verifiedAt"] is not None
    assert me["session"]["userVerified"] is False  # the sign-in itself was without UV
    detail = next(
        r["detail"]
        for r in reversed(audit_rows(services(app).engine))
        if r["event"] == "authentication"
    )
    assert '"step_up":true' in detail
    assert browser.register(SoftAuthenticator(), "ada").status_code == 200
    assert before is not None
    old = Browser(app.test_client())
    old.replay(before)  # the id from before the step-up is dead
    problem(old.call("GET", ME), "unauthenticated", 401)


def test_the_step_up_window_is_the_policys(app: Flask, client: FlaskClient) -> None:
    browser, auth = Browser(client), SoftAuthenticator()
    browser.register(auth, "ada")
    advance_clock(app, 301)  # the default policy's step_up_max_age_seconds is 300
    problem(
        browser.post("/attestation/options", {"username": "ada", "displayName": "ada"}),
        "step_up_required",
        401,
    )
    assert browser.sign_in(auth, "ada", options_body=UV).status_code == 200
    assert browser.register(SoftAuthenticator(), "ada").status_code == 200


def test_the_result_checks_the_session_again(app: Flask, client: FlaskClient) -> None:
    """Options from a stepped-up session, then the owner signs out everywhere: no key added."""
    browser, auth = Browser(client), SoftAuthenticator()
    browser.register(auth, "ada")
    planted = SoftAuthenticator()
    options = browser.registration_options("ada")
    owner = Browser(app.test_client())
    owner.sign_in(auth, "ada")
    assert owner.call("DELETE", "/api/v1/me/sessions").status_code == 204
    body = planted.create(options, origin=browser.origin)
    problem(browser.post("/attestation/result", body), "unauthenticated", 401)
    assert _credentials(app) == 1


def test_the_result_checks_the_step_up_again(app: Flask, client: FlaskClient) -> None:
    browser, auth = Browser(client), SoftAuthenticator()
    browser.register(auth, "ada")
    advance_clock(app, 250)
    options = browser.registration_options("ada")
    advance_clock(app, 60)  # the result comes 310 s after the last verification
    body = SoftAuthenticator().create(options, origin=browser.origin)
    problem(browser.post("/attestation/result", body), "step_up_required", 401)
    row = audit_rows(services(app).engine)[-1]
    assert (row["event"], row["code"]) == ("registration", "step_up_required")


def test_a_taken_username_stays_refused_to_strangers(app: Flask, client: FlaskClient) -> None:
    Browser(client).register(SoftAuthenticator(), "ada")
    stranger = Browser(app.test_client())
    problem(
        stranger.post("/attestation/options", {"username": "ada", "displayName": "ada"}),
        "conflict",
        409,
    )
