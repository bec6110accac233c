"""schemathesis over the whole OpenAPI document, anonymous and as a signed-in admin.

Every documented operation gets a fixed number of generated requests in each of
schemathesis' modes (positive: what the schemas accept; negative: what they refuse),
derandomised so that CI sees the same requests every run. Each answer must:

* not be a 5xx;
* be, when 4xx, ``application/problem+json`` whose ``code`` is one of the contract's
  (:func:`authsvc.errors.all_error_classes`);
* conform to the document: a documented status, content type and body schema, and a
  request the schemas refuse must be refused (schemathesis' own checks).

The admin run signs an admin up through the cookie ceremonies (a fresh user-verified
sign-in, so step-up holds) and sends the session cookie with every request. A generated
request may end that session or the admin's rights (sign-out, a deleted passkey, a
demotion): after each request the session is checked, and the admin made again if needed,
so the rest of the run is still authorised.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Err

from authsvc.errors import all_error_classes
from tests.database import empty_tables
from tests.http.admin_flows import signed_in_admin
from tests.http.flows import services

CODES = frozenset(cls.code for cls in all_error_classes())
EXAMPLES = 12  # per operation and mode: bounded, so the run takes well under a minute
#: "positive data accepted" is left out: the schemas are the outer bound of what a route
#: takes, and its own checks (RFC 8265 usernames, policy documents, step-up) refuse some
#: schema-valid input on purpose, with a contract code that the other checks still hold.
#: "ignored auth" is left out too: it replays a request with made-up credentials through the
#: same in-process client, which still holds the admin's cookie; the anonymous run checks
#: the same thing directly (no operation with a security requirement answers 2xx to it).
EXCLUDED = [schemathesis.checks.positive_data_acceptance, schemathesis.checks.ignored_auth]
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class AdminSession:
    """The admin's session cookie, made again whenever a request ended it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.cookie = self._sign_in()
        self.remade = 0

    def _sign_in(self) -> str:
        browser, _ = signed_in_admin(self.app, "schemathesis-admin")
        found = browser.session_id()
        assert found is not None
        return found

    def cookies(self) -> dict[str, str]:
        return {"session": self.cookie}

    def keep(self) -> None:
        client = self.app.test_client()
        client.set_cookie("session", self.cookie, domain="localhost")
        me = client.get("/api/v1/me")
        if me.status_code == 200 and me.json is not None and me.json["role"] == "admin":
            return
        empty_tables(services(self.app).engine)
        self.cookie = self._sign_in()
        self.remade += 1


def _contract_problem(case: Case[Any], status: int, content_type: str | None, body: Any) -> None:
    label = f"{case.method} {case.formatted_path}"
    assert status < 500, f"{label}: {status}"
    if 400 <= status < 500:
        assert content_type == "application/problem+json", f"{label}: {status} {content_type}"
        assert isinstance(body, dict) and body.get("code") in CODES, f"{label}: {body}"
        assert body.get("status") == status, f"{label}: {body}"


def _takes_input(operation: APIOperation[Any, Any, Any, Any]) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def _run(
    app: Flask,
    cookies: Callable[[], dict[str, str]],
    after: Callable[[], None],
    *,
    anonymous: bool = False,
) -> tuple[int, int]:
    """Every operation, each mode: (requests sent, of which 2xx)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    calls = accepted = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # an operation the document describes wrongly
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @HYPOTHESIS
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Case[Any]) -> None:
                nonlocal calls, accepted
                response = case.call(cookies=cookies())
                calls += 1
                accepted += response.status_code < 300
                try:
                    body = response.json()
                except ValueError:
                    body = None
                content_type = response.headers.get("content-type") or [""]
                _contract_problem(case, response.status_code, content_type[0], body)
                if anonymous and case.operation.definition.raw.get("security"):
                    assert response.status_code >= 400, f"{case.method} {case.formatted_path}"
                case.validate_response(response, excluded_checks=EXCLUDED)
                after()

            try:
                check()
            except Unsatisfiable:
                # nothing to make invalid: an operation with no parameters and no body
                if mode is GenerationMode.POSITIVE or _takes_input(operation):
                    raise
    return calls, accepted


def test_anonymous_callers(app: Flask) -> None:
    started = time.monotonic()
    calls, accepted = _run(app, dict, lambda: None, anonymous=True)
    print(f"anonymous: {calls} requests ({accepted} 2xx) in {time.monotonic() - started:.1f} s")
    assert calls > 0


def test_a_signed_in_admin(app: Flask) -> None:
    admin = AdminSession(app)
    started = time.monotonic()
    calls, accepted = _run(app, admin.cookies, admin.keep)
    seconds = time.monotonic() - started
    print(f"admin: {calls} requests ({accepted} 2xx) in {seconds:.1f} s, {admin.remade} remade")
    assert accepted > calls // 10  # the run was authorised: many calls got through
