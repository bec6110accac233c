"""What ends sessions from outside: a credential disabled, locked or deleted; an admin ending
a user's sessions or disabling the user. A replayed cookie then gets 401, and a disabled
user's sign-in is refused as ``credential_unknown``, as for a key nobody knows."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from sqlalchemy import update

from authsvc.errors import Conflict, CredentialUnknown
from authsvc.services import admin_accounts
from authsvc.services.admin import Actor
from authsvc.services.context import Caller
from authsvc.storage import accounts
from authsvc.storage.models import users
from tests.http.admin_flows import AdminBrowser, signed_in_admin
from tests.http.flows import Browser, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

ME = "/api/v1/me"


def _user_id(app: Flask, username: str) -> int:
    with services(app).engine.connect() as conn:
        found = accounts.user_by_username(conn, username)
    assert found is not None
    return found.id


def _ada(app: Flask) -> tuple[Browser, SoftAuthenticator, int]:
    browser, auth = Browser(app.test_client()), SoftAuthenticator()
    assert browser.register(auth, "ada").status_code == 200
    assert browser.call("GET", ME).status_code == 200
    return browser, auth, _user_id(app, "ada")


def _credential(admin: AdminBrowser, user_id: int) -> int:
    listed = admin.call("GET", f"/credentials?user={user_id}").json
    assert listed is not None
    pk: int = listed["credentials"][0]["id"]
    return pk


def _stolen(app: Flask, browser: Browser) -> Browser:
    """Another client presenting a copy of ``browser``'s cookie."""
    value = browser.session_id()
    assert value is not None
    thief = Browser(app.test_client())
    thief.replay(value)
    assert thief.call("GET", ME).status_code == 200
    return thief


def _detail(app: Flask) -> dict[str, object]:
    detail: dict[str, object] = json.loads(audit_rows(services(app).engine)[-1]["detail"])
    return detail


def test_disabling_the_credential_ends_its_sessions(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    ada, auth, ada_id = _ada(app)
    thief = _stolen(app, ada)
    pk = _credential(admin, ada_id)
    assert admin.call("PUT", f"/credentials/{pk}/status", {"status": "disabled"}).status_code == 200
    assert _detail(app)["sessions_ended"] == 1
    problem(ada.call("GET", ME), "unauthenticated", 401)
    problem(thief.call("GET", ME), "unauthenticated", 401)
    # enabling it again does not bring the session back
    assert admin.call("PUT", f"/credentials/{pk}/status", {"status": "active"}).status_code == 200
    problem(thief.call("GET", ME), "unauthenticated", 401)
    assert ada.sign_in(auth, "ada").status_code == 200


def test_deleting_the_credential_ends_its_sessions(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    ada, _, ada_id = _ada(app)
    thief = _stolen(app, ada)
    assert admin.call("DELETE", f"/credentials/{_credential(admin, ada_id)}").status_code == 204
    assert _detail(app)["sessions_ended"] == 1
    problem(thief.call("GET", ME), "unauthenticated", 401)


def test_a_clone_locked_credential_ends_its_sessions(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    assert (
        admin.call(
            "POST", "/policies/default/versions", {"document": {"sign_count_regression": "lock"}}
        ).status_code
        == 201
    )
    ada, auth = Browser(app.test_client()), SoftAuthenticator(start_counter=10)
    ada.register(auth, "ada")
    thief = _stolen(app, ada)
    clone = Browser(app.test_client())
    problem(clone.sign_in(auth, "ada", counter=3), "sign_count_regressed")
    assert _detail(app)["sessions_ended"] == 1
    problem(thief.call("GET", ME), "unauthenticated", 401)
    problem(ada.call("GET", ME), "unauthenticated", 401)


def test_an_admin_ends_a_users_sessions(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    ada, auth, ada_id = _ada(app)
    phone = Browser(app.test_client())
    phone.sign_in(auth, "ada")
    ended = admin.call("DELETE", f"/users/{ada_id}/sessions")
    assert ended.status_code == 200 and ended.json == {"user": ada_id, "sessionsEnded": 2}
    row = audit_rows(services(app).engine)[-1]
    assert (row["event"], row["outcome"], row["user_id"]) == (
        "admin.session.revoke_all",
        "success",
        ada_id,
    )
    problem(ada.call("GET", ME), "unauthenticated", 401)
    problem(phone.call("GET", ME), "unauthenticated", 401)
    assert admin.call("GET", "/users").status_code == 200  # the admin's own session stays
    problem(admin.call("DELETE", "/users/999999/sessions"), "not_found", 404)


def test_only_admins_end_sessions_or_change_status(app: Flask) -> None:
    ada, _, ada_id = _ada(app)
    bob = AdminBrowser(app.test_client())
    bob.register(SoftAuthenticator(), "bob")
    problem(bob.call("DELETE", f"/users/{ada_id}/sessions"), "forbidden", 403)
    problem(bob.call("PUT", f"/users/{ada_id}/status", {"status": "disabled"}), "forbidden", 403)
    problem(bob.call("PUT", f"/users/{ada_id}/status", "not even an object"), "forbidden", 403)
    anonymous = AdminBrowser(app.test_client())
    problem(anonymous.call("DELETE", f"/users/{ada_id}/sessions"), "unauthenticated", 401)
    assert ada.call("GET", ME).status_code == 200


def test_disabling_a_user_ends_their_sessions_and_refuses_sign_in(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    ada, auth, ada_id = _ada(app)
    thief = _stolen(app, ada)
    disabled = admin.call("PUT", f"/users/{ada_id}/status", {"status": "disabled"})
    assert disabled.status_code == 200, disabled.json
    detail = _detail(app)
    assert (detail["status"], detail["previous"], detail["sessions_ended"]) == (
        "disabled",
        "active",
        1,
    )
    problem(thief.call("GET", ME), "unauthenticated", 401)
    problem(ada.call("GET", ME), "unauthenticated", 401)
    # ada's options list imaginary credentials, as for a name nobody has; her real
    # passkey, offered anyway, is refused as a key nobody knows
    stranger = Browser(app.test_client())
    refused = problem(
        stranger.sign_in(auth, "ada", credential=auth.credentials[0]), "credential_unknown"
    )
    assert refused["detail"] == CredentialUnknown().detail
    assert admin.call("PUT", f"/users/{ada_id}/status", {"status": "active"}).status_code == 200
    assert Browser(app.test_client()).sign_in(auth, "ada").status_code == 200


def test_status_changes_need_a_step_up_and_a_valid_status(app: Flask) -> None:
    admin, auth = signed_in_admin(app)
    _, _, ada_id = _ada(app)
    for body in ({"status": "gone"}, {"status": 1}, {"state": "disabled"}, {}):
        problem(admin.call("PUT", f"/users/{ada_id}/status", body), "malformed")
    no_uv = AdminBrowser(app.test_client())
    auth.uv = False
    no_uv.sign_in(auth, "root")
    problem(
        no_uv.call("PUT", f"/users/{ada_id}/status", {"status": "disabled"}),
        "step_up_required",
        401,
    )


def test_an_admin_cannot_disable_themselves(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    me = _user_id(app, "root")
    problem(admin.call("PUT", f"/users/{me}/status", {"status": "disabled"}), "forbidden", 403)
    assert admin.call("GET", "/users").status_code == 200


def test_the_last_active_admin_cannot_be_disabled(app: Flask) -> None:
    """Another admin whose own account was disabled meanwhile (its request already past
    the session check) finds root the last active admin: conflict."""
    signed_in_admin(app, "root")
    signed_in_admin(app, "deputy")
    root, deputy = _user_id(app, "root"), _user_id(app, "deputy")
    with services(app).engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == deputy).values(status="disabled"))
    stale = Actor(deputy, "admin", time.time(), Caller(binding="0" * 64))
    with pytest.raises(Conflict):
        admin_accounts.set_user_status(services(app), stale, root, "disabled")
    row = audit_rows(services(app).engine)[-1]
    assert (row["event"], row["code"]) == ("admin.user.status", "conflict")
