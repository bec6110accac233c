"""The admin rules of account changes: step-up on credential status, no change to one's own
account, and never fewer than one active admin, in any order of concurrent calls."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from sqlalchemy import update

from authsvc.errors import AuthError, Conflict
from authsvc.services import admin
from authsvc.services.admin import Actor
from authsvc.services.context import Caller
from authsvc.storage import accounts
from authsvc.storage.models import users
from tests.http.admin_flows import AdminBrowser, signed_in_admin
from tests.http.flows import Browser, advance_clock, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator


def _user_id(app: Flask, username: str) -> int:
    with services(app).engine.connect() as conn:
        found = accounts.user_by_username(conn, username)
    assert found is not None
    return found.id


def _role(app: Flask, username: str) -> str:
    with services(app).engine.connect() as conn:
        found = accounts.user_by_username(conn, username)
    assert found is not None
    return found.role


def _last(app: Flask) -> dict[str, Any]:
    return audit_rows(services(app).engine)[-1]


def _refusal(app: Flask) -> tuple[str, str, str]:
    row = _last(app)
    return row["event"], row["outcome"], row["code"]


def test_credential_status_needs_a_step_up(app: Flask) -> None:
    admin_browser, auth = signed_in_admin(app)
    Browser(app.test_client()).register(SoftAuthenticator(), "ada")
    creds = admin_browser.call("GET", f"/credentials?user={_user_id(app, 'ada')}").json
    assert creds is not None
    (cred,) = creds["credentials"]
    advance_clock(app, 301)  # past the default policy's 300 s window
    for status in ("disabled", "locked", "active"):
        problem(
            admin_browser.call("PUT", f"/credentials/{cred['id']}/status", {"status": status}),
            "step_up_required",
            401,
        )
        assert _refusal(app) == ("admin.credential.status", "failure", "step_up_required")
    listed = admin_browser.call("GET", f"/credentials?user={_user_id(app, 'ada')}").json
    assert listed is not None and listed["credentials"][0]["status"] == "active"
    admin_browser.sign_in(auth, "root", options_body={"userVerification": "required"})
    changed = admin_browser.call("PUT", f"/credentials/{cred['id']}/status", {"status": "locked"})
    assert changed.status_code == 200, changed.json


def test_an_admin_cannot_change_their_own_role_or_group(app: Flask) -> None:
    root, _ = signed_in_admin(app)
    me = _user_id(app, "root")
    problem(root.call("PUT", f"/users/{me}/role", {"role": "user"}), "forbidden", 403)
    row = _last(app)
    assert (row["event"], row["code"], row["user_id"], row["actor_user_id"]) == (
        "admin.user.role",
        "forbidden",
        me,
        me,
    )
    problem(root.call("PUT", f"/users/{me}/role", {"role": "admin"}), "forbidden", 403)
    problem(root.call("PUT", f"/users/{me}/group", {"group": "default"}), "forbidden", 403)
    assert _refusal(app) == ("admin.user.group", "failure", "forbidden")
    # refused before the step-up is looked at: a stale session is told "never", not "verify"
    advance_clock(app, 301)
    problem(root.call("PUT", f"/users/{me}/group", {"group": "default"}), "forbidden", 403)
    assert _role(app, "root") == "admin"


def test_another_admin_can_demote_an_admin_while_one_remains(app: Flask) -> None:
    root, _ = signed_in_admin(app)
    deputy, _ = signed_in_admin(app, "deputy")
    assert root.call("PUT", f"/users/{_user_id(app, 'deputy')}/role", {"role": "user"}).status_code
    assert _role(app, "deputy") == "user"
    row = _last(app)
    assert (row["event"], row["outcome"]) == ("admin.user.role", "success")
    # the demoted admin's session has lost the role at once
    problem(
        deputy.call("PUT", f"/users/{_user_id(app, 'root')}/role", {"role": "user"}),
        "forbidden",
        403,
    )
    assert _role(app, "root") == "admin"


def test_disabled_admins_do_not_count_as_remaining(app: Flask) -> None:
    signed_in_admin(app)
    signed_in_admin(app, "deputy")
    signed_in_admin(app, "standby")
    root, deputy = _user_id(app, "root"), _user_id(app, "deputy")
    engine = services(app).engine
    with engine.begin() as conn:
        assert accounts.other_active_admins(conn, root) == 2
        conn.execute(update(users).where(users.c.username == "standby").values(status="disabled"))
        assert accounts.other_active_admins(conn, root) == 1
        conn.execute(update(users).where(users.c.id == deputy).values(role="user"))
        assert accounts.other_active_admins(conn, root) == 0


def _actor(app: Flask, username: str) -> Actor:
    svc = services(app)
    return Actor(_user_id(app, username), "admin", svc.clock(), Caller(binding="test"))


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app: Flask) -> None:
    """Root demotes deputy while deputy demotes root: whichever commits second is refused.

    Root's transaction has counted the admins and not yet committed when deputy's call
    starts; deputy's must wait for it (row locks on PostgreSQL, the write lock on SQLite)
    and then find itself no longer counted, so it cannot also succeed.
    """
    signed_in_admin(app)
    signed_in_admin(app, "deputy")
    svc = services(app)
    root, deputy = _user_id(app, "root"), _user_id(app, "deputy")
    deputy_actor = _actor(app, "deputy")
    outcome: list[AuthError | None] = []

    def deputy_demotes_root() -> None:
        try:
            admin.set_role(svc, deputy_actor, root, "user")
            outcome.append(None)
        except AuthError as exc:
            outcome.append(exc)

    with svc.engine.connect() as conn, conn.begin():
        assert accounts.other_active_admins(conn, deputy) == 1
        racer = threading.Thread(target=deputy_demotes_root)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), "the second demotion did not wait for the first"
        accounts.set_role(conn, deputy, "user")
    racer.join(timeout=10)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    assert (_role(app, "root"), _role(app, "deputy")) == ("admin", "user")
    assert _refusal(app) == ("admin.user.role", "failure", "conflict")


def test_a_non_admin_cannot_promote_themselves(app: Flask) -> None:
    signed_in_admin(app)
    mallory = AdminBrowser(app.test_client())
    auth = SoftAuthenticator()
    mallory.register(auth, "mallory")
    mallory.sign_in(auth, "mallory", options_body={"userVerification": "required"})
    me = _user_id(app, "mallory")
    problem(mallory.call("PUT", f"/users/{me}/role", {"role": "admin"}), "forbidden", 403)
    row = _last(app)
    assert (row["event"], row["code"], row["actor_user_id"]) == ("admin.user.role", "forbidden", me)
    assert _role(app, "mallory") == "user"
