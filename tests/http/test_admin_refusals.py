"""Refused admin calls: authorised before parsing, audited once each, never echoing input."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from authsvc.policy.examples import EXAMPLES
from authsvc.web import admin as admin_routes
from authsvc.web import admin_accounts as account_routes
from authsvc.web import admin_records as record_routes
from authsvc.web.admin_calls import ROUTES, AdminRoute
from tests.http.admin_flows import ADMIN, AdminBrowser, signed_in_admin
from tests.http.flows import advance_clock, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

CUSTOMERS = json.loads(EXAMPLES["customers"])
BLUEPRINTS = {admin_routes.bp.name, account_routes.bp.name, record_routes.bp.name}
MINE = sorted((e, r) for e, r in ROUTES.items() if e.split(".", maxsplit=1)[0] in BLUEPRINTS)
ACTIONS = {(r.method, r.rule): r.action for r in ROUTES.values()}
GARBAGE = {"<script>alert(1)</script>": 1, "role": ["admin"], "document": "x"}


def _path(route: AdminRoute) -> str:
    return re.sub(r"<[^>]+>", "7", route.rule)


def _refused_once(
    app: Flask, response: TestResponse, code: str, status: int, action: str
) -> dict[str, Any]:
    """The response is ``code`` and exactly one audit row records it; return that row."""
    body = problem(response, code, status)
    rows = audit_rows(services(app).engine)
    assert (rows[-1]["event"], rows[-1]["outcome"], rows[-1]["code"]) == (
        f"admin.{action}",
        "failure",
        code,
    )
    return body


def test_every_route_is_registered_with_its_inputs() -> None:
    assert len(MINE) == 19
    assert ROUTES["admin_records.audit_log"].query == (
        "user",
        "event",
        "since",
        "until",
        "before",
        "limit",
    )
    assert ROUTES["admin.set_role"].members == {"role"}
    assert ROUTES["admin_accounts.set_status"].required == {"status"}


@pytest.mark.parametrize(("endpoint", "route"), MINE, ids=[e for e, _ in MINE])
def test_anonymous_calls_learn_nothing_and_are_audited(
    app: Flask, endpoint: str, route: AdminRoute
) -> None:
    anonymous = AdminBrowser(app.test_client())
    before = len(audit_rows(services(app).engine))
    response = anonymous.call(route.method, _path(route) + "?after=%C2%B2&x=1", GARBAGE)
    body = _refused_once(app, response, "unauthenticated", 401, route.action)
    assert body["detail"] == "Sign in first"
    rows = audit_rows(services(app).engine)
    assert len(rows) == before + 1
    assert (rows[-1]["actor_user_id"], rows[-1]["user_id"]) == (None, None)
    assert rows[-1]["client_address"] == "127.0.0.1"


@pytest.mark.parametrize(("endpoint", "route"), MINE, ids=[e for e, _ in MINE])
def test_non_admin_calls_learn_nothing_and_are_audited(
    app: Flask, endpoint: str, route: AdminRoute
) -> None:
    user = AdminBrowser(app.test_client())
    auth = SoftAuthenticator()
    user.register(auth, "mallory")
    user.sign_in(auth, "mallory", options_body={"userVerification": "required"})
    response = user.call(route.method, _path(route) + "?limit=-1", GARBAGE)
    body = _refused_once(app, response, "forbidden", 403, route.action)
    assert body["detail"] == "this needs the admin role"
    assert audit_rows(services(app).engine)[-1]["actor_user_id"] is not None


@pytest.mark.parametrize(
    ("members", "detail"),
    [
        ({"<b>x</b>": 1}, "1 unknown member"),
        ({"<b>x</b>": 1, "a\u202eb": 2}, "2 unknown members"),
        ({"extra": 1}, "unknown member: extra"),
        ({"extra": 1, "Other_2": 2}, "unknown members: Other_2, extra"),
        ({"extra": 1, "<img src=x>": 2}, "unknown members: extra and 1 more not shown"),
        ({"9lives": 1}, "1 unknown member"),
        ({"x" * 41: 1}, "1 unknown member"),
    ],
)
def test_unknown_members_are_never_echoed(app: Flask, members: dict[str, int], detail: str) -> None:
    admin, _ = signed_in_admin(app)
    response = admin.call("PUT", "/users/1/role", {"role": "user", **members})
    assert _refused_once(app, response, "malformed", 400, "user.role")["detail"] == detail


@pytest.mark.parametrize(
    "query",
    [
        "/users?after=%C2%B2",  # '²': str.isdigit() says yes, int() says no
        "/users?after=%D9%A3",  # Arabic-indic three: int() would take it
        "/users?after=" + "9" * 5000,  # past int()'s digit limit, refused before it
        "/users?after=",
        "/users?after=+1",
        "/users?after=2147483648",
        "/users?limit=0",
        "/users?limit=501",
        "/users?after=1&after=2",
        "/users?page=2",
        "/users?%3Cscript%3E=1",
        "/credentials?user=-1",
        "/audit?limit=0",
        "/audit?before=" + "1" * 20,
        "/audit?until=9999-12-31T23:59:59-23:59",
        "/audit?since=0001-01-01T00:00:00%2B23:59",
        "/audit?since=2025-01-01T00:00:00",  # no zone
        "/audit?since=2025-01-01",
        "/audit?since=%EF%BC%92025-01-01T00:00:00Z",  # full-width digit
        "/audit?since=2025-01-01T00:00:00%2B24:00",
        "/audit?event=Authentication",
        "/audit?event=" + "a" * 65,
    ],
)
def test_bad_query_parameters_are_malformed_and_audited(app: Flask, query: str) -> None:
    admin, _ = signed_in_admin(app)
    response = admin.call("GET", query)
    action = ACTIONS["GET", query.split("?", maxsplit=1)[0]]
    body = _refused_once(app, response, "malformed", 400, action)
    assert "<" not in body["detail"] and "script" not in body["detail"]


def test_edge_times_that_fit_are_accepted(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    for since, until in [
        ("0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59+23:59"),
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"),
        ("2025-01-01T00:00:00+01:00", "2025-W01-1T00:00Z"),
    ]:
        response = admin.call("GET", f"/audit?since={quote(since)}&until={quote(until)}")
        assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    ("method", "path", "body", "action"),
    [
        ("PUT", "/users/%D9%A3/role", {"role": "user"}, "user.role"),
        ("PUT", "/users/%D9%A3/status", {"status": "disabled"}, "user.status"),
        ("DELETE", "/users/%C2%B2/sessions", None, "session.revoke_all"),
        ("DELETE", "/users/999/sessions", None, "session.revoke_all"),
        ("PUT", "/users/999/status", {"status": "active"}, "user.status"),
        ("PUT", "/users/0/group", {"group": "default"}, "user.group"),
        ("PUT", "/users/2147483648/role", {"role": "user"}, "user.role"),
        ("PUT", "/credentials/%C2%B2/status", {"status": "active"}, "credential.status"),
        ("DELETE", "/credentials/" + "1" * 5000, None, "credential.delete"),
        ("DELETE", "/credentials/999", None, "credential.delete"),
        ("PUT", "/users/999/role", {"role": "user"}, "user.role"),
        ("GET", "/policies/nope", None, "policy.get"),
        ("PUT", "/groups/nope/policy", {"policy": "default"}, "group.assign_policy"),
        ("POST", "/policies/nope/dry-run", {}, "policy.dry_run"),
    ],
)
def test_unknown_resources_are_not_found_and_audited(
    app: Flask, method: str, path: str, body: object, action: str
) -> None:
    admin, _ = signed_in_admin(app)
    before = len(audit_rows(services(app).engine))
    _refused_once(app, admin.call(method, path, body), "not_found", 404, action)
    assert len(audit_rows(services(app).engine)) == before + 1


def test_a_path_id_is_read_only_after_authorisation(app: Flask) -> None:
    """Not an id at all: the anonymous caller still hears 401, and that is one audit row."""
    anonymous = AdminBrowser(app.test_client())
    before = len(audit_rows(services(app).engine))
    response = anonymous.call("PUT", "/users/abc/status", {"status": "disabled"})
    _refused_once(app, response, "unauthenticated", 401, "user.status")
    assert len(audit_rows(services(app).engine)) == before + 1


def test_conflicts_and_stale_step_ups_are_audited(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    created = admin.call("POST", "/groups", {"name": "shoppers", "policy": "default"})
    assert created.status_code == 201
    again = admin.call("POST", "/groups", {"name": "shoppers", "policy": "default"})
    _refused_once(app, again, "conflict", 409, "group.create")
    advance_clock(app, 301)
    stale = admin.call("POST", "/policies", {"name": "p", "document": CUSTOMERS})
    _refused_once(app, stale, "step_up_required", 401, "policy.create")


def test_bodies_are_read_only_after_authorisation(app: Flask) -> None:
    """Not JSON, a wrong type or a missing member: the anonymous caller hears only 401."""
    anonymous = app.test_client()
    for data, mimetype in [
        (b"{", "application/json"),
        (b"role=admin", "application/x-www-form-urlencoded"),
        (b"[]", "application/json"),
    ]:
        response = anonymous.put(ADMIN + "/users/1/role", data=data, content_type=mimetype)
        _refused_once(app, response, "unauthenticated", 401, "user.role")
    admin, _ = signed_in_admin(app)
    response = admin.client.put(ADMIN + "/users/1/role", data=b"{", content_type="application/json")
    _refused_once(app, response, "malformed", 400, "user.role")
    _refused_once(app, admin.call("PUT", "/users/1/role", {}), "malformed", 400, "user.role")
    _refused_once(
        app, admin.call("PUT", "/users/1/role", {"role": 1}), "malformed", 400, "user.role"
    )
