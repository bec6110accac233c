"""Every admin route, fed Hypothesis-made paths, query strings and bodies.

The routes are read from ``app.url_map`` (every rule under ``/api/v1/admin``, whoever added
it), their query parameters and body members from :data:`authsvc.web.admin_calls.ROUTES`
where the route declares them, plus made-up ones. Whatever is sent:

* the answer is 2xx, or 4xx ``application/problem+json`` with a code of the contract;
* an anonymous caller gets 401 and a signed-in non-admin 403, whatever the input, so
  neither learns anything of the schema;
* a call that reaches a handler leaves exactly one audit row, and a refused one records
  its code there and changes nothing else.

The admin's own ids are never generated, so a call that succeeds cannot end the admin's
session or account halfway through (those rules have their own tests).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from authsvc.errors import all_error_classes
from authsvc.web.admin_calls import ROUTES
from tests.conftest import ORIGIN
from tests.http.admin_flows import signed_in_admin
from tests.http.flows import Browser, audit_rows, services
from tests.softauthn import SoftAuthenticator

ADMIN = "/api/v1/admin"
CODES = frozenset(cls.code for cls in all_error_classes())
KNOWN_MEMBERS = ("status", "role", "group", "policy", "name", "document")
KNOWN_QUERY = ("after", "limit", "user", "event", "since", "until", "before")
_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
STATE = ("users", "credentials", "groups", "policies", "web_sessions")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["admin", "user", "active", "disabled", "locked", "default", "x" * 70])
    | st.sampled_from([{}, {"user_verification": "required"}, {"max_false_accept_rate": 1e-300}]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
offsets = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
)
times = st.datetimes(
    timezones=st.builds(
        timezone, offsets.map(lambda d: timedelta(minutes=d // timedelta(minutes=1)))
    )
)
edge_numbers = st.sampled_from(
    ["", "0", "²", "٣", "\uff11", "1e3", " 1", "+1", "0x10", "9" * 30, "9" * 5000]
)
edge_times = st.sampled_from(
    [
        "9999-12-31T23:59:59-23:59",  # past the year 9999 in UTC
        "0001-01-01T00:00:00+23:59",  # before the year 1 in UTC
        "2025-13-01T00:00Z",
        "2025-01-01T00:00:00",
        "2025-01-01T00:00:00+24:00",
    ]
)
query_values = st.one_of(
    edge_numbers,
    edge_times,
    edge_times,
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    times.map(lambda d: d.isoformat()),
)


def _not_a_small_id(segment: str) -> bool:
    """True unless int() (which takes Unicode digits, as URL converters do) finds an id < 1000."""
    try:
        return int(segment) >= 1000 or int(segment) < 0
    except ValueError:
        return True


path_segments = st.one_of(
    st.text(min_size=1, max_size=20).filter(lambda s: "/" not in s),
    st.integers(min_value=1000, max_value=2**70).map(str),
    st.sampled_from(["default", "0", "-1", "²", "٣", "%", "<b>", "a" * 80, "2147483648"]),
).filter(_not_a_small_id)
raw_bodies = st.one_of(
    st.binary(max_size=60).map(lambda b: (b, "application/json")),
    st.text(max_size=60).map(lambda t: (t.encode(), "application/json")),
    st.sampled_from([(b"role=admin", "application/x-www-form-urlencoded"), (b"{}", "text/plain")]),
)

HYPOTHESIS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _admin_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) for every admin route, in a stable order."""
    found = [
        (method, rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(ADMIN + "/")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    return sorted(found)


def _state(engine: Engine) -> list[list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        tables = [
            [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]  # noqa: S608 - our names
            for table in STATE[:-1]
        ]
        tables.append(
            [tuple(r) for r in conn.execute(text("SELECT id_hash FROM web_sessions ORDER BY 1"))]
        )
    return tables


def _reaches_a_handler(app: Flask, method: str, path: str) -> bool:
    try:
        app.url_map.bind("localhost").match(path, method)
    except HTTPException:
        return False
    return True


@st.composite
def admin_requests(draw: st.DrawFn, rules: list[tuple[str, str, str]]) -> dict[str, Any]:
    """A call to one of ``rules``: mostly the declared inputs with hostile values.

    Mostly declared names: one bad value refuses the call before the next is read, so a
    made-up name on every call would keep the deeper checks from ever being reached.
    """
    method, rule, endpoint = draw(st.sampled_from(rules))
    declared = ROUTES.get(endpoint)
    path = _VARIABLE.sub(lambda _: quote(draw(path_segments), safe=""), rule)
    names = declared.query if declared else KNOWN_QUERY
    query: dict[str, str] = {}
    for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2]))):
        made_up: bool = not names or draw(st.integers(0, 9)) == 0
        key: str = draw(st.text()) if made_up else draw(st.sampled_from(names))
        query[key] = draw(query_values)
    if query:
        path += "?" + urlencode(query, quote_via=quote)
    members = sorted(declared.members) if declared else list(KNOWN_MEMBERS)
    body: dict[str, Any] = {}
    kind = draw(st.sampled_from(["members", "members", "members", "object", "json", "raw", "none"]))
    if kind == "members" and members:
        body["json"] = {m: v for m in members if (v := draw(st.none() | json_values)) is not None}
    elif kind == "object":
        body["json"] = draw(st.dictionaries(st.text(max_size=10), json_values, max_size=4))
    elif kind == "json":
        body["json"] = draw(json_values)
    elif kind == "raw":
        body["data"], body["content_type"] = draw(raw_bodies)
    return {"method": method, "path": path, "endpoint": endpoint, **body}


def _examples(app: Flask, endpoint: str) -> int:
    """More examples where there is more input to vary."""
    declared = ROUTES.get(endpoint)
    return 10 + (10 * (len(declared.query) + len(declared.members)) if declared else 10)


def _send(client: FlaskClient, call: dict[str, Any]) -> TestResponse:
    kwargs = {k: v for k, v in call.items() if k in {"json", "data", "content_type"}}
    return client.open(call["path"], method=call["method"], headers={"Origin": ORIGIN}, **kwargs)


def _check(
    app: Flask, call: dict[str, Any], response: TestResponse, before: Any, audited: int
) -> None:
    engine = services(app).engine
    shown = (
        f"{call['method']} {call['path']} -> {response.status_code} {response.get_data()[:300]!r}"
    )
    assert response.status_code < 500, shown
    rows = audit_rows(engine)
    new = rows[audited:]
    if _reaches_a_handler(app, call["method"], call["path"].split("?")[0]):
        assert len(new) == 1, shown
        assert new[0]["event"].startswith("admin."), shown
    if response.status_code < 300:
        return
    assert 400 <= response.status_code < 500, shown
    assert response.mimetype == "application/problem+json", shown
    code = json.loads(response.get_data())["code"]
    assert code in CODES, shown
    assert _state(engine) == before, shown
    if new:
        assert (new[0]["outcome"], new[0]["code"]) == ("failure", code), shown


def _member(app: Flask) -> FlaskClient:
    member = Browser(app.test_client())
    auth = SoftAuthenticator()
    member.register(auth, "member")
    member.sign_in(auth, "member", options_body={"userVerification": "required"})
    return member.client


def test_without_the_role_nothing_is_learned_whatever_is_sent(app: Flask) -> None:
    rules = _admin_rules(app)
    engine = services(app).engine
    signed_in_admin(app)
    callers = {"unauthenticated": (app.test_client(), 401), "forbidden": (_member(app), 403)}

    @settings(HYPOTHESIS, max_examples=150)
    @given(who=st.sampled_from(sorted(callers)), call=admin_requests(rules))
    def generated(who: str, call: dict[str, Any]) -> None:
        client, status = callers[who]
        before, audited = _state(engine), len(audit_rows(engine))
        response = _send(client, call)
        _check(app, call, response, before, audited)
        if _reaches_a_handler(app, call["method"], call["path"].split("?")[0]):
            assert response.status_code == status, call
            assert json.loads(response.get_data())["code"] == who, call

    generated()


def test_every_admin_route_survives_generated_input(app: Flask) -> None:
    rules = _admin_rules(app)
    assert len(rules) >= 17
    engine = services(app).engine
    admin, _ = signed_in_admin(app)

    for rule in rules:

        @settings(HYPOTHESIS, max_examples=_examples(app, rule[2]))
        @given(call=admin_requests([rule]))
        def generated(call: dict[str, Any]) -> None:
            before, audited = _state(engine), len(audit_rows(engine))
            _check(app, call, _send(admin.client, call), before, audited)

        generated()
