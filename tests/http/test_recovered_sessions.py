"""A recovered session may add a passkey and nothing else, until it signs in with one.

And the group's policy decides whether codes and links may be used at all.
"""

from __future__ import annotations

from flask import Flask

from tests.http.admin_flows import ADMIN, signed_in_admin
from tests.http.flows import Browser, problem
from tests.http.recovery_flows import CODES, USE_CODE, USE_LINK, events, me, user_id, with_codes
from tests.softauthn import SoftAuthenticator

CREDENTIALS = "/api/v1/me/credentials"
UV = {"userVerification": "required"}


def _recovered(app: Flask) -> tuple[Browser, list[str]]:
    """Ada lost her passkey; on a new device she uses one of her codes."""
    _, _, codes = with_codes(app)
    browser = Browser(app.test_client())
    assert browser.post(USE_CODE, {"username": "ada", "code": codes[0]}).status_code == 200
    return browser, codes


def _credential_ids(browser: Browser) -> list[int]:
    listed = browser.call("GET", CREDENTIALS).json
    assert listed is not None
    return [c["id"] for c in listed["credentials"]]


def test_a_recovered_session_can_add_a_passkey(app: Flask) -> None:
    browser, _ = _recovered(app)
    added = browser.register(SoftAuthenticator(), "ada")
    assert added.status_code == 200, added.json
    assert len(_credential_ids(browser)) == 2
    assert me(browser)["session"]["recovered"] is True  # adding is not signing in


def test_a_recovered_session_can_change_nothing_else(app: Flask) -> None:
    browser, _ = _recovered(app)
    [old] = _credential_ids(browser)
    problem(browser.call("PATCH", f"{CREDENTIALS}/{old}", {"name": "x"}), "step_up_required", 401)
    problem(browser.call("DELETE", f"{CREDENTIALS}/{old}"), "step_up_required", 401)
    problem(browser.call("POST", CODES), "step_up_required", 401)
    assert _credential_ids(browser) == [old]


def test_a_recovered_admin_cannot_use_the_admin_api(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    made = Browser.call(admin, "POST", CODES)  # the account API, not the admin one
    assert made.status_code == 201
    assert made.json is not None
    recovered = Browser(app.test_client())
    used = recovered.post(USE_CODE, {"username": "root", "code": made.json["codes"][0]})
    assert used.status_code == 200
    problem(recovered.call("GET", f"{ADMIN}/users"), "step_up_required", 401)
    problem(recovered.call("GET", f"{ADMIN}/audit"), "step_up_required", 401)
    ada = Browser(app.test_client())
    assert ada.register(SoftAuthenticator(), "ada").status_code == 200
    link = recovered.call("POST", f"{ADMIN}/users/{user_id(app, 'ada')}/recovery-link")
    problem(link, "step_up_required", 401)


def test_a_passkey_sign_in_clears_the_flag(app: Flask) -> None:
    browser, _ = _recovered(app)
    new = SoftAuthenticator()
    assert browser.register(new, "ada").status_code == 200
    before = browser.session_id()
    signed = browser.sign_in(new, "ada", options_body=UV)
    assert signed.status_code == 200, signed.json
    assert browser.session_id() != before  # rotated, as every sign-in
    session = me(browser)["session"]
    assert session["recovered"] is False
    assert session["credential"] is not None
    [old, _added] = _credential_ids(browser)
    renamed = browser.call("PATCH", f"{CREDENTIALS}/{old}", {"name": "lost phone"})
    assert renamed.status_code == 200, renamed.json  # now a stepped-up ordinary session
    assert '"recovery_cleared":true' in (events(app, "authentication")[-1]["detail"] or "")


def test_a_recovered_session_is_listed_and_can_sign_out(app: Flask) -> None:
    browser, _ = _recovered(app)
    listed = browser.call("GET", "/api/v1/me/sessions").json
    assert listed is not None
    mine = [s for s in listed["sessions"] if s["current"]]
    assert [(s["recovered"], s["credential"]) for s in mine] == [(True, None)]
    assert browser.call("DELETE", "/api/v1/sessions/current").status_code == 204
    problem(browser.call("GET", "/api/v1/me"), "unauthenticated", 401)


def test_a_policy_without_codes_refuses_making_and_using_them(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    owner, _, codes = with_codes(app)
    off = admin.call("POST", "/policies/default/versions", {"document": {"recovery_codes": False}})
    assert off.status_code == 201, off.json
    body = problem(owner.call("POST", CODES), "policy_denied", 403)
    assert [r["code"] for r in body["reasons"]] == ["recovery_codes_not_allowed"]
    listed = owner.call("GET", CODES).json
    assert listed is not None and listed["allowed"] is False
    lost = Browser(app.test_client())
    used = problem(lost.post(USE_CODE, {"username": "ada", "code": codes[0]}), "policy_denied", 403)
    assert [r["code"] for r in used["reasons"]] == ["recovery_codes_not_allowed"]
    # a wrong code still gets the uniform answer: the policy says nothing to a guesser
    problem(lost.post(USE_CODE, {"username": "ada", "code": "AAAAA-AAAAA"}), "unauthenticated", 401)
    on = admin.call("POST", "/policies/default/versions", {"document": {"recovery_codes": True}})
    assert on.status_code == 201
    assert lost.post(USE_CODE, {"username": "ada", "code": codes[0]}).status_code == 200


def test_a_policy_without_links_refuses_issuing_and_using_them(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    assert Browser(app.test_client()).register(SoftAuthenticator(), "ada").status_code == 200
    ada = user_id(app, "ada")
    issued = admin.call("POST", f"/users/{ada}/recovery-link")
    assert issued.status_code == 201
    assert issued.json is not None
    token = issued.json["url"].split("#", 1)[1]
    off = admin.call("POST", "/policies/default/versions", {"document": {"recovery_links": False}})
    assert off.status_code == 201
    body = problem(admin.call("POST", f"/users/{ada}/recovery-link"), "policy_denied", 403)
    assert [r["code"] for r in body["reasons"]] == ["recovery_links_not_allowed"]
    browser = Browser(app.test_client())
    problem(browser.post(USE_LINK, {"token": token}), "policy_denied", 403)
    problem(browser.call("GET", "/api/v1/me"), "unauthenticated", 401)
