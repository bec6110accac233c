"""Group membership and policy assignment through the admin API, succeeding and biting.

A user moved into a group is judged at the next sign-in by that group's policy; a group
made to follow another policy judges its members by it at once; moving the user back
restores the default. Each change is audited as a success by the admin who made it.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from authsvc.policy.document import policy_document
from authsvc.policy.model import Policy
from tests.http.admin_flows import AdminBrowser, signed_in_admin
from tests.http.flows import Browser, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

DEFAULT = policy_document(Policy.default())


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def _last(app: Flask) -> dict[str, Any]:
    return audit_rows(services(app).engine)[-1]


def _ada(admin: AdminBrowser) -> dict[str, Any]:
    users = _ok(admin.call("GET", "/users"))["users"]
    ada: dict[str, Any] = next(u for u in users if u["username"] == "ada")
    return ada


def test_a_user_moved_to_a_group_is_judged_by_its_policy(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    user = Browser(app.test_client())
    synced = SoftAuthenticator(backup_eligible=True, backed_up=True)
    assert user.register(synced, "ada").status_code == 200
    strict = {**DEFAULT, "device_bound_only": True}
    _ok(admin.call("POST", "/policies", {"name": "strict", "document": strict}), 201)
    _ok(admin.call("POST", "/policies", {"name": "relaxed", "document": DEFAULT}), 201)
    group = _ok(admin.call("POST", "/groups", {"name": "staff", "policy": "relaxed"}), 201)
    assert (group["policy"], group["members"]) == ("relaxed", 0)

    ada = _ada(admin)
    moved = _ok(admin.call("PUT", f"/users/{ada['id']}/group", {"group": "staff"}))
    assert moved == {"user": ada["id"], "group": "staff"}
    row = _last(app)
    assert (row["event"], row["outcome"]) == ("admin.user.group", "success")
    assert row["actor_user_id"] is not None
    assert _ada(admin)["group"] == "staff"
    assert user.sign_in(synced, "ada").status_code == 200  # "relaxed" lets synced passkeys in

    assigned = _ok(admin.call("PUT", "/groups/staff/policy", {"policy": "strict"}))
    assert (assigned["name"], assigned["policy"], assigned["members"]) == ("staff", "strict", 1)
    row = _last(app)
    assert (row["event"], row["outcome"]) == ("admin.group.assign_policy", "success")
    body = problem(user.sign_in(synced, "ada"), "policy_denied", 403)
    assert [r["code"] for r in body["reasons"]] == ["backup_eligible_not_allowed"]
    refused = _last(app)
    assert (refused["event"], refused["code"]) == ("authentication", "policy_denied")
    assert json.loads(refused["detail"])["reasons"] == ["backup_eligible_not_allowed"]

    _ok(admin.call("PUT", f"/users/{ada['id']}/group", {"group": "default"}))
    assert _ada(admin)["group"] == "default"
    assert user.sign_in(synced, "ada").status_code == 200  # the default policy applies again
