"""Cross-site requests refused, security headers on every response (issue 9, items 3 and 4).

The routes are read from ``app.url_map``, so a route that a later change adds is covered
here without editing this file. A refusal by the guard is told apart from every other
``forbidden`` by its detail text, :data:`authsvc.web.guards.REFUSAL_DETAIL`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from authsvc import create_app
from authsvc.settings import Settings
from authsvc.storage.models import Base
from authsvc.web.guards import (
    PAGE_CSP,
    PUBLIC_DOCUMENT_HEADERS,
    PUBLIC_DOCUMENTS,
    REFUSAL_DETAIL,
    SAFE_METHODS,
    SHORT_LIVED_DOCUMENTS,
    serves_https_only,
)
from tests.conftest import ORIGIN
from tests.database import empty_tables
from tests.http.admin_flows import signed_in_admin
from tests.http.flows import Browser, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

HTTPS_ORIGIN = "https://example.com"

#: Requests another site starts, as a browser labels them (Lax cookies go with the last four).
CROSS_SITE: Mapping[str, Mapping[str, str]] = {
    "another site": {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    "another site, no Fetch Metadata": {"Origin": "https://evil.example"},
    "Origin null": {"Origin": "null"},
    "an empty Origin": {"Origin": ""},
    "another scheme": {"Origin": "https://localhost:5000"},
    "only Sec-Fetch-Site: cross-site": {"Sec-Fetch-Site": "cross-site"},
    "cross-site with an allowed Origin": {"Origin": ORIGIN, "Sec-Fetch-Site": "cross-site"},
    "a Sec-Fetch-Site no browser sends": {"Origin": ORIGIN, "Sec-Fetch-Site": "cross-origin"},
    "a sibling subdomain": {"Origin": "http://evil.localhost:5000", "Sec-Fetch-Site": "same-site"},
    "another port": {"Origin": "http://localhost:5001", "Sec-Fetch-Site": "same-site"},
    "same-site without an Origin": {"Sec-Fetch-Site": "same-site"},
}
#: What our own page, the user, a native app or curl send: never refused by the guard.
SAME_ORIGIN: Mapping[str, Mapping[str, str]] = {
    "same-origin": {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"},
    "same-site with an allowed Origin": {"Origin": ORIGIN, "Sec-Fetch-Site": "same-site"},
    "user-initiated": {"Origin": ORIGIN, "Sec-Fetch-Site": "none"},
    "an allowed Origin only": {"Origin": ORIGIN},
    "Sec-Fetch-Site: same-origin only": {"Sec-Fetch-Site": "same-origin"},
    "no headers (a native app, curl)": {},
}
API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
#: Routes that exist today; the enumeration must find at least these.
KNOWN_STATE_CHANGING = {
    ("POST", "/attestation/options"),
    ("POST", "/attestation/result"),
    ("POST", "/assertion/options"),
    ("POST", "/assertion/result"),
    ("POST", "/api/v1/admin/policies"),
    ("DELETE", "/api/v1/admin/credentials/1"),
}


def _path(rule: Rule) -> str:
    """A URL of ``rule`` with 1 for every variable (valid for ``int`` and ``string`` parts)."""
    built = rule.build(dict.fromkeys(rule.arguments, 1))
    assert built is not None, rule.rule
    return built[1]


def _routes(app: Flask) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app routes, HEAD and OPTIONS included."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods or ()):
            yield method, _path(rule)


def _state_changing(app: Flask) -> list[tuple[str, str]]:
    routes = [(m, p) for m, p in _routes(app) if m not in SAFE_METHODS]
    assert set(routes) >= KNOWN_STATE_CHANGING, routes
    return routes


def _send(
    client: FlaskClient, method: str, path: str, headers: Mapping[str, str], **kwargs: Any
) -> TestResponse:
    if method not in SAFE_METHODS and "data" not in kwargs:
        kwargs["json"] = {}  # a JSON body: what the guard stands in front of
    return client.open(path, method=method, headers=dict(headers), **kwargs)


def _refused_by_guard(response: TestResponse) -> bool:
    if response.status_code != 403 or response.mimetype != "application/problem+json":
        return False
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return bool(body["code"] == "forbidden" and body["detail"] == REFUSAL_DETAIL)


def _everything(app: Flask) -> tuple[dict[str, list[str]], list[bytes]]:
    """Every row of every table, and every Redis key of this test run: nothing may change."""
    svc = services(app)
    with svc.engine.connect() as conn:
        tables = {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }
    keys: list[bytes] = []
    if svc.settings.redis_url:
        client = redis.Redis.from_url(svc.settings.redis_url)
        keys = sorted(client.scan_iter(match=svc.settings.redis_prefix + "*"))
        client.close()
    return tables, keys


def _header_mismatches(
    response: TestResponse, *, hsts: bool, public: Mapping[str, str] | None = None
) -> list[str]:
    """The headers that differ from what this response must carry: an HTML page gets the
    page CSP (our scripts and styles only), everything else the API's; a public document
    (``public``: its cache headers) may be cached and read cross-origin."""
    csp = PAGE_CSP if response.mimetype == "text/html" else API_HEADERS["Content-Security-Policy"]
    expected = {**API_HEADERS, "Content-Security-Policy": csp, **dict([HSTS] if hsts else [])}
    if public and response.status_code == 200:
        expected.update(public)
    wrong = [
        f"{name}: {response.headers.get(name)!r}"
        for name, value in expected.items()
        if response.headers.getlist(name) != [value]
    ]
    if not hsts and HSTS[0] in response.headers:
        wrong.append(f"{HSTS[0]} on plain http")
    return wrong


def test_every_state_changing_route_refuses_cross_site_requests_and_changes_nothing(
    app: Flask,
) -> None:
    """A signed-in admin's cookie goes with each request: refused, nothing stored or audited."""
    browser, _ = signed_in_admin(app)
    before = _everything(app)
    failures = []
    for method, path in _state_changing(app):
        for name, headers in CROSS_SITE.items():
            if not _refused_by_guard(_send(browser.client, method, path, headers)):
                failures.append(f"{method} {path}: {name}")
        not_json = _send(
            browser.client, method, path, CROSS_SITE["another site"], data="x=1",
            content_type="application/x-www-form-urlencoded",
        )  # fmt: skip
        if not _refused_by_guard(not_json):  # refused before the body is even looked at
            failures.append(f"{method} {path}: a form post")
    assert failures == []
    assert _everything(app) == before


def test_same_origin_and_headerless_requests_pass_the_guard(client: FlaskClient) -> None:
    """They may fail later (no session, bad body); never with the guard's refusal."""
    failures = [
        f"{method} {path}: {name}"
        for method, path in _state_changing(client.application)
        for name, headers in SAME_ORIGIN.items()
        if _refused_by_guard(_send(client, method, path, headers))
    ]
    assert failures == []


def test_a_browser_sending_fetch_metadata_registers_and_signs_in(client: FlaskClient) -> None:
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    browser, auth = Browser(client), SoftAuthenticator()
    assert browser.register(auth, "ada").status_code == 200
    assert browser.sign_in(auth, "ada").status_code == 200


def test_safe_methods_are_not_checked(client: FlaskClient) -> None:
    response = client.get("/healthz", headers=CROSS_SITE["another site"])
    assert response.status_code == 200


@hypothesis_settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    origin=st.sampled_from(
        [
            "HTTP://LOCALHOST:5000",
            "http://localhost:5000/",
            "http://localhost",
            "http://localhost:05000",
            "http://127.0.0.1:5000",
            "http://[::1]:5000",
            "http://user@localhost:5000",
            " http://localhost:5000",
            "http://localhost:5000.evil.example",
            "http://localhost:5000, https://evil.example",
        ]
    )
    | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=24).map(
        lambda tail: ORIGIN + tail
    )
    | st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
    fetch_site=st.none() | st.sampled_from(["same-origin", "same-site", "none", "cross-site"]),
)
def test_any_origin_not_configured_is_refused(
    app: Flask, client: FlaskClient, origin: str, fetch_site: str | None
) -> None:
    """Compared exactly: case, a slash, a port, a prefix match or a list are all refused."""
    if origin == ORIGIN:
        return
    headers = {"Origin": origin} | ({"Sec-Fetch-Site": fetch_site} if fetch_site else {})
    before = _everything(app)
    assert _refused_by_guard(_send(client, "POST", "/assertion/options", headers))
    assert _everything(app) == before


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(fetch_site=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20))
def test_a_sec_fetch_site_value_outside_the_spec_is_refused(
    client: FlaskClient, fetch_site: str
) -> None:
    headers = {"Origin": ORIGIN, "Sec-Fetch-Site": fetch_site}
    refused = _refused_by_guard(_send(client, "POST", "/assertion/options", headers))
    assert refused == (fetch_site not in {"same-origin", "same-site", "none"})


def test_a_refusal_is_logged_with_cut_header_values_and_not_audited(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    origin = "https://" + "e" * 500 + ".example"
    with caplog.at_level(logging.WARNING, logger="authsvc.web.guards"):
        response = _send(client, "PUT", "/api/v1/admin/users/7/role", {"Origin": origin})
    assert _refused_by_guard(response)
    [record] = [r for r in caplog.records if r.name == "authsvc.web.guards"]
    message = record.getMessage()
    assert "PUT" in message and "/api/v1/admin/users/7/role" in message
    assert origin[:100] in message and origin[:101] not in message
    assert audit_rows(services(app).engine) == []


def test_a_refused_request_does_not_count_against_a_rate_limit(settings: Settings) -> None:
    """The guard's hook runs before flask-limiter's: a cross-site flood spends nobody's limit."""
    app = create_app(
        settings.with_changes(
            rate_limits=True,
            rate_limit_ceremony="2/minute",
            redis_prefix=f"{settings.redis_prefix}{secrets.token_hex(4)}:",
        )
    )
    empty_tables(services(app).engine)
    client = app.test_client()
    for _ in range(5):
        assert _refused_by_guard(
            _send(client, "POST", "/assertion/options", CROSS_SITE["Origin null"])
        )
    same_origin = SAME_ORIGIN["same-origin"]
    assert _send(client, "POST", "/assertion/options", same_origin).status_code == 200
    assert _send(client, "POST", "/assertion/options", same_origin).status_code == 200
    problem(_send(client, "POST", "/assertion/options", same_origin), "rate_limited", 429)
    services(app).engine.dispose()


def test_every_response_carries_the_security_headers(app: Flask, client: FlaskClient) -> None:
    """Every route and method (HEAD and OPTIONS too), errors, 404, 405, 413 and refusals."""
    responses = {
        f"{method} {path}": _send(client, method, path, {"Origin": ORIGIN})
        for method, path in _routes(app)
    }
    responses["404"] = client.get("/no/such/resource")
    responses["405"] = _send(client, "PATCH", "/healthz", {"Origin": ORIGIN})
    responses["413"] = _send(
        client, "POST", "/assertion/options", {"Origin": ORIGIN},
        data=b"{" * (services(app).settings.max_body_bytes + 1), content_type="application/json",
    )  # fmt: skip
    responses["refused"] = _send(client, "POST", "/assertion/options", CROSS_SITE["Origin null"])
    assert responses["404"].status_code == 404 and responses["405"].status_code == 405
    assert responses["413"].status_code == 413
    wrong = {
        name: mismatches
        for name, response in responses.items()
        if (mismatches := _header_mismatches(response, hsts=False, public=_public(app, name)))
    }
    assert wrong == {}


def _public(app: Flask, name: str) -> Mapping[str, str]:
    """The cache headers guards.py gives a public document's successful GET or HEAD."""
    method, _, path = name.partition(" ")
    if method not in {"GET", "HEAD"}:
        return {}
    endpoint, _ = app.url_map.bind("localhost").match(path, method)
    if endpoint in PUBLIC_DOCUMENTS:
        return PUBLIC_DOCUMENT_HEADERS
    if endpoint in SHORT_LIVED_DOCUMENTS:
        cache = SHORT_LIVED_DOCUMENTS[endpoint]
        return {"Cache-Control": cache, "Cross-Origin-Resource-Policy": "cross-origin"}
    return {}


def test_an_unexpected_error_carries_the_security_headers(settings: Settings) -> None:
    app = create_app(settings)

    def broken() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/broken", view_func=broken)
    response = app.test_client().get("/broken")
    services(app).engine.dispose()
    assert response.status_code == 500
    assert _header_mismatches(response, hsts=False) == []


@pytest.fixture
def https_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(
        settings.with_changes(rp_id="example.com", origins=(HTTPS_ORIGIN,), secure_cookies=True)
    )
    empty_tables(services(app).engine)
    yield app
    services(app).engine.dispose()


def test_https_origins_get_hsts_on_every_response(https_app: Flask) -> None:
    client = https_app.test_client()
    responses = {
        f"{method} {path}": _send(
            client, method, path, {"Origin": HTTPS_ORIGIN}, base_url=HTTPS_ORIGIN
        )
        for method, path in _routes(https_app)
    }
    responses["404"] = client.get("/no/such/resource", base_url=HTTPS_ORIGIN)
    wrong = {
        name: mismatches
        for name, response in responses.items()
        if (mismatches := _header_mismatches(response, hsts=True, public=_public(https_app, name)))
    }
    assert wrong == {}


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",  # a sibling subdomain: same-site, so Lax cookies go along
        "https://example.com:8443",  # another port: same-site too
        "http://example.com",  # a downgrade
        "http://localhost:5000",  # the default origin, not this deployment's
    ],
)
def test_https_deployment_refuses_same_site_origins_it_does_not_list(
    https_app: Flask, origin: str
) -> None:
    client = https_app.test_client()
    headers = {"Origin": origin, "Sec-Fetch-Site": "same-site"}
    before = _everything(https_app)
    response = _send(client, "POST", "/assertion/options", headers, base_url=HTTPS_ORIGIN)
    assert _refused_by_guard(response)
    assert _everything(https_app) == before
    allowed = {"Origin": HTTPS_ORIGIN, "Sec-Fetch-Site": "same-origin"}
    response = _send(client, "POST", "/assertion/options", allowed, base_url=HTTPS_ORIGIN)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("origins", "secure_cookies", "expected"),
    [
        (("http://localhost:5000",), False, False),
        (("http://localhost:5000",), True, False),  # never on a localhost http setup
        (("https://example.com",), False, True),
        (("https://example.com", "http://localhost:5000"), True, False),
        (("android:apk-key-hash:abc",), True, True),  # an app-only deployment on https
        (("android:apk-key-hash:abc",), False, False),
    ],
)
def test_hsts_only_when_the_service_is_known_to_be_on_https(
    settings: Settings, origins: tuple[str, ...], secure_cookies: bool, expected: bool
) -> None:
    changed = settings.with_changes(origins=origins, secure_cookies=secure_cookies)
    assert serves_https_only(changed) is expected
