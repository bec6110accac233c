"""An admin's one-time recovery link: step-up, single use, expiry, bound, replaced, audited."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select

from authsvc.storage.models import one_time_tokens
from tests.conftest import ORIGIN
from tests.http.admin_flows import AdminBrowser, signed_in_admin
from tests.http.flows import Browser, advance_clock, problem, services
from tests.http.recovery_flows import USE_LINK, events, me, user_id
from tests.softauthn import SoftAuthenticator


def _ada(app: Flask) -> int:
    assert Browser(app.test_client()).register(SoftAuthenticator(), "ada").status_code == 200
    return user_id(app, "ada")


def _issue(admin: AdminBrowser, user: int) -> str:
    """Issue a link for ``user``; return its token (the URL's fragment)."""
    issued = admin.call("POST", f"/users/{user}/recovery-link")
    assert issued.status_code == 201, issued.json
    assert issued.json is not None
    url = urlsplit(str(issued.json["url"]))
    assert f"{url.scheme}://{url.netloc}" == ORIGIN
    assert url.path == "/recover"
    assert issued.json["expiresAt"]
    return url.fragment


def test_a_link_signs_in_a_recovered_session_of_its_user_once(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    ada = _ada(app)
    token = _issue(admin, ada)
    phone = Browser(app.test_client())
    used = phone.post(USE_LINK, {"token": token})
    assert used.status_code == 200, used.json
    found = me(phone)
    assert (found["username"], found["session"]["recovered"]) == ("ada", True)
    problem(Browser(app.test_client()).post(USE_LINK, {"token": token}), "unauthenticated", 401)
    [issued] = events(app, "admin.recovery.link_issued")
    assert (issued["user_id"], issued["outcome"]) == (ada, "success")
    assert token not in (issued["detail"] or "")
    used_events = events(app, "recovery.link_used")
    assert [(e["outcome"], e["user_id"]) for e in used_events] == [
        ("success", ada),
        ("failure", None),
    ]


def test_the_token_is_stored_only_as_its_hash(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    token = _issue(admin, _ada(app))
    with services(app).engine.connect() as conn:
        row = conn.execute(select(one_time_tokens)).one()
    assert bytes(row.token_hash) == hashlib.sha256(token.encode()).digest()
    assert row.purpose == "recovery"
    assert token.encode() not in b"".join(
        bytes(v) if isinstance(v, bytes) else str(v).encode() for v in row
    )


def test_a_link_expires(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    token = _issue(admin, _ada(app))
    advance_clock(app, services(app).settings.recovery_link_ttl + 1)
    problem(Browser(app.test_client()).post(USE_LINK, {"token": token}), "unauthenticated", 401)


def test_a_newer_link_revokes_the_older(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    ada = _ada(app)
    old = _issue(admin, ada)
    new = _issue(admin, ada)
    problem(Browser(app.test_client()).post(USE_LINK, {"token": old}), "unauthenticated", 401)
    assert Browser(app.test_client()).post(USE_LINK, {"token": new}).status_code == 200


def test_a_link_is_bound_to_its_account(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    ada = _ada(app)
    assert Browser(app.test_client()).register(SoftAuthenticator(), "bob").status_code == 200
    token = _issue(admin, user_id(app, "bob"))
    browser = Browser(app.test_client())
    assert browser.post(USE_LINK, {"token": token}).status_code == 200
    assert me(browser)["id"] != ada


def test_issuing_needs_an_admin_with_a_fresh_step_up(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    ada = _ada(app)
    advance_clock(app, 301)
    problem(admin.call("POST", f"/users/{ada}/recovery-link"), "step_up_required", 401)
    user = AdminBrowser(app.test_client())
    problem(user.call("POST", f"/users/{ada}/recovery-link"), "unauthenticated", 401)
    assert user.register(SoftAuthenticator(), "eve").status_code == 200
    problem(user.call("POST", f"/users/{ada}/recovery-link"), "forbidden", 403)
    with services(app).engine.connect() as conn:
        assert conn.execute(select(one_time_tokens)).all() == []
    codes = [e["code"] for e in events(app, "admin.recovery.link_issued")]
    assert codes == ["step_up_required", "unauthenticated", "forbidden"]


def test_an_admin_cannot_issue_a_link_for_themself(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    problem(admin.call("POST", f"/users/{user_id(app, 'root')}/recovery-link"), "forbidden", 403)


def test_no_link_for_a_missing_user(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    problem(admin.call("POST", "/users/999999/recovery-link"), "not_found", 404)
    problem(admin.call("POST", "/users/abc/recovery-link"), "not_found", 404)


def test_an_unknown_or_malformed_token_is_refused(app: Flask) -> None:
    browser = Browser(app.test_client())
    problem(browser.post(USE_LINK, {"token": "A" * 43}), "unauthenticated", 401)
    problem(browser.post(USE_LINK, {"token": ""}), "malformed", 400)
    problem(browser.post(USE_LINK, {"token": "A" * 65}), "malformed", 400)
    problem(browser.post(USE_LINK, {"token": "x", "user": 1}), "malformed", 400)
