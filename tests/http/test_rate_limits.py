"""Rate limits through HTTP: each limit is reached, answered 429 with Retry-After, audited
once per window, and never refuses the victim's own attempt from another address.

Addresses are simulated with X-Forwarded-For behind TRUSTED_PROXIES=1 (documentation
addresses: they only ever appear in a header). Each test gets its own Redis prefix, so
counters never carry over from another test when REDIS_URL is set.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from flask import Flask
from flask_limiter import Limiter
from limits.strategies import SlidingWindowCounterRateLimiter
from werkzeug.test import TestResponse

from authsvc import create_app
from authsvc.errors import RateLimited
from authsvc.settings import Settings
from authsvc.web import limits
from tests.database import empty_tables
from tests.http.flows import Browser, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

ATTACKER, VICTIM = "192.0.2.66", "198.51.100.7"


@dataclass
class Client(Browser):
    """A browser at a given client address (the proxy's X-Forwarded-For)."""

    address: str = VICTIM

    def post(self, path: str, body: object) -> TestResponse:
        headers = {"Origin": self.origin, "X-Forwarded-For": self.address}
        return self.client.post(path, json=body, headers=headers)

    def get(self, path: str) -> TestResponse:
        return self.client.get(path, headers={"X-Forwarded-For": self.address})


def limited_app(settings: Settings, **limits: Any) -> Iterator[Flask]:
    app = create_app(
        settings.with_changes(
            trusted_proxies=1,
            redis_prefix=f"authsvc-test:{secrets.token_hex(6)}:",
            **{"rate_limits": True, **limits},
        )
    )
    empty_tables(services(app).engine)
    yield app
    services(app).engine.dispose()


SMALL: dict[str, Any] = {
    "rate_limit_ceremony": "50/minute",
    "rate_limit_signup": "3/hour",
    "rate_limit_account": "20/minute",
    "rate_limit_passkeys": "2/hour",
    "rate_limit_admin": "3/minute",
    "rate_limit_credential_failures": 2,
    "rate_limit_credential_delay": 1,
    "rate_limit_credential_delay_max": 4,
}


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """Small limits, so each test reaches its own in a few requests."""
    yield from limited_app(settings, **SMALL)


@pytest.fixture
def strict_app(settings: Settings) -> Iterator[Flask]:
    """Smaller still: 4 requests a minute per ceremony endpoint."""
    yield from limited_app(settings, **{**SMALL, "rate_limit_ceremony": "4/minute"})


@pytest.fixture
def account_app(settings: Settings) -> Iterator[Flask]:
    """3 sign-in options a minute per account and address."""
    yield from limited_app(settings, **{**SMALL, "rate_limit_account": "3/minute"})


def at(app: Flask, address: str) -> Client:
    return Client(app.test_client(), address=address)


def refused(response: TestResponse) -> dict[str, Any]:
    """Assert a 429 ``rate_limited`` with a whole-seconds Retry-After; return the body."""
    body = problem(response, "rate_limited", 429)
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 24 * 3600
    return body


def rate_limit_events(app: Flask) -> list[dict[str, Any]]:
    return [row for row in audit_rows(services(app).engine) if row["event"] == "rate_limit"]


def test_each_ceremony_endpoint_is_limited_per_address(strict_app: Flask) -> None:
    app = strict_app
    attacker = at(app, ATTACKER)
    for _ in range(4):
        assert attacker.post("/assertion/options", {}).status_code == 200
    body = refused(attacker.post("/assertion/options", {}))
    assert body["status"] == "failed"  # the conformance fields, on a conformance endpoint
    assert body["errorMessage"]
    # the other endpoints count apart, and other addresses are not affected
    assert attacker.post("/attestation/result", {}).status_code == 400
    assert at(app, VICTIM).post("/assertion/options", {}).status_code == 200


def test_a_flood_is_audited_once_per_window(strict_app: Flask) -> None:
    app = strict_app
    attacker = at(app, ATTACKER)
    statuses = [attacker.post("/assertion/result", {}).status_code for _ in range(30)]
    assert statuses == [400] * 4 + [429] * 26
    [event] = rate_limit_events(app)
    assert event["outcome"] == "failure"
    assert event["code"] == "rate_limited"
    assert event["client_address"] == ATTACKER
    assert '"limit":"ceremony"' in event["detail"]
    assert '"path":"/assertion/result"' in event["detail"]


def test_sign_in_options_per_account_and_address(account_app: Flask) -> None:
    app = account_app
    victim = at(app, VICTIM)
    auth = SoftAuthenticator()
    assert victim.register(auth, "victim-user").status_code == 200
    attacker = at(app, ATTACKER)
    for _ in range(3):
        assert attacker.post("/assertion/options", {"username": "victim-user"}).status_code == 200
    refused(attacker.post("/assertion/options", {"username": "Victim-User"}))  # folded: one
    # the attacker's address may still sign in to other accounts, as its address limit allows
    # (an unknown name: 200 with imaginary credentials, or 400 before those existed)
    assert attacker.post("/assertion/options", {"username": "someone-else"}).status_code != 429
    # and the owner, from their own address, is not locked out
    assert victim.sign_in(auth, "victim-user").status_code == 200
    [event] = rate_limit_events(app)
    assert '"limit":"account"' in event["detail"]
    assert "victim" not in event["detail"].lower()  # an HMAC of the name, not the name


def test_sign_up_per_address(app: Flask) -> None:
    attacker = at(app, ATTACKER)
    for n in range(3):
        body = {"username": f"bot-{n}", "displayName": "bot"}
        assert attacker.post("/attestation/options", body).status_code == 200
    refused(attacker.post("/attestation/options", {"username": "bot-9", "displayName": "bot"}))
    neighbour = at(app, VICTIM)
    assert neighbour.register(SoftAuthenticator(), "neighbour").status_code == 200


def test_adding_passkeys_per_account_and_address(app: Flask) -> None:
    owner = at(app, VICTIM)
    auth = SoftAuthenticator()
    assert owner.register(auth, "owner").status_code == 200  # one sign-up
    assert owner.sign_in(auth, "owner").status_code == 200
    for _ in range(2):
        assert owner.post("/attestation/options", {"username": "owner"}).status_code == 200
    refused(owner.post("/attestation/options", {"username": "owner"}))
    # signed in, a name that is not the session's own still counts as a sign-up
    assert owner.post("/attestation/options", {"username": "fresh"}).status_code == 200
    [event] = rate_limit_events(app)
    assert '"limit":"passkeys"' in event["detail"]


def test_failures_with_one_credential_back_off_per_address(app: Flask) -> None:
    victim = at(app, VICTIM)
    auth = SoftAuthenticator()
    assert victim.register(auth, "victim-user").status_code == 200
    attacker = at(app, ATTACKER)
    for _ in range(2):
        problem(attacker.sign_in(auth, "victim-user", corrupt_signature=True), "signature_invalid")
    first = refused(attacker.sign_in(auth, "victim-user", corrupt_signature=True))
    assert "passkey" in first["detail"]
    # the owner's own attempt, from another address, goes through while the attacker waits
    assert victim.sign_in(auth, "victim-user").status_code == 200
    time.sleep(1.1)  # the first delay (1 s) is over: one more try, then a doubled delay
    problem(attacker.sign_in(auth, "victim-user", corrupt_signature=True), "signature_invalid")
    again = attacker.sign_in(auth, "victim-user")
    refused(again)
    assert int(again.headers["Retry-After"]) == 2
    events = [e for e in rate_limit_events(app) if '"limit":"credential"' in e["detail"]]
    assert len(events) == 2  # one per delay, not one per refused request
    assert {e["client_address"] for e in events} == {ATTACKER}
    assert all(e["credential_id"] is not None for e in events)


def test_a_success_clears_the_failures(app: Flask) -> None:
    victim = at(app, VICTIM)
    auth = SoftAuthenticator()
    assert victim.register(auth, "victim-user").status_code == 200
    for _ in range(3):  # fail, succeed: the count never reaches the threshold of 2
        problem(victim.sign_in(auth, "victim-user", corrupt_signature=True), "signature_invalid")
        assert victim.sign_in(auth, "victim-user").status_code == 200
    assert rate_limit_events(app) == []


def test_admin_api_per_address(app: Flask) -> None:
    attacker = at(app, ATTACKER)
    for _ in range(3):
        problem(attacker.get("/api/v1/admin/users"), "unauthenticated", 401)
    body = refused(attacker.get("/api/v1/admin/audit"))  # one count for the whole admin API
    assert "errorMessage" not in body  # not a conformance endpoint
    problem(at(app, VICTIM).get("/api/v1/admin/users"), "unauthenticated", 401)


def test_limits_hold_across_app_instances(strict_app: Flask) -> None:
    app = strict_app
    """A second app on the same stores (another worker or instance) sees the same counts."""
    other = create_app(services(app).settings)
    try:
        first, second = at(app, ATTACKER), at(other, ATTACKER)
        assert first.post("/assertion/options", {}).status_code == 200
        assert second.post("/assertion/options", {}).status_code == 200
        assert first.post("/assertion/options", {}).status_code == 200
        assert second.post("/assertion/options", {}).status_code == 200
        refused(first.post("/assertion/options", {}))
        refused(second.post("/assertion/options", {}))
    finally:
        services(other).engine.dispose()


def test_limits_off_counts_nothing(settings: Settings) -> None:
    for app in limited_app(settings, rate_limits=False, rate_limit_ceremony="1/hour"):
        client = at(app, ATTACKER)
        assert [client.post("/assertion/options", {}).status_code for _ in range(5)] == [200] * 5


def test_an_unreachable_limit_store_is_unavailable_not_skipped(settings: Settings) -> None:
    for app in limited_app(settings.with_changes(redis_url="redis://127.0.0.1:1/0")):
        problem(at(app, ATTACKER).post("/attestation/result", {}), "unavailable", 503)


def test_an_account_is_its_canonical_username(account_app: Flask) -> None:
    """Accounts are counted as the service keeps them (RFC 8265): case and width fold into
    one, but ``straße`` and ``strasse`` are two users, so they are two counts."""
    attacker = at(account_app, ATTACKER)
    for name in ("Straße", "straße", "STRAßE"):
        assert attacker.post("/assertion/options", {"username": name}).status_code == 200
    refused(attacker.post("/assertion/options", {"username": "ＳＴＲＡßＥ"}))  # full width
    assert attacker.post("/assertion/options", {"username": "strasse"}).status_code == 200


def test_a_name_the_profile_refuses_is_still_counted(account_app: Flask) -> None:
    """The schemas refuse such names first; should one reach the limiter anyway, it counts
    under its exact text, and neither it nor a lone surrogate is an error of the limiter's."""
    with account_app.test_request_context("/assertion/options", method="POST"):
        for _ in range(3):
            limits.sign_in_options("not a username")
        with pytest.raises(RateLimited):
            limits.sign_in_options("not a username")
        limits.sign_in_options("Not a username")  # exact text: another count
        limits.sign_in_options("\ud800")


def test_a_refusal_names_the_window_that_is_full(settings: Settings) -> None:
    for app in limited_app(settings, **{**SMALL, "rate_limit_ceremony": "100/minute;3/hour"}):
        attacker = at(app, ATTACKER)
        for _ in range(3):
            assert attacker.post("/assertion/options", {}).status_code == 200
        refused(attacker.post("/assertion/options", {}))
        [event] = rate_limit_events(app)
        assert '"rate":"3 per 1 hour"' in event["detail"]


def test_flask_limiter_holds_the_counters_without_its_request_hooks(app: Flask) -> None:
    """Its hooks cost tens of µs on every request; each limit here is one call of ours."""
    [limiter] = app.extensions["limiter"]
    assert isinstance(limiter, Limiter)
    assert isinstance(limiter.limiter, SlidingWindowCounterRateLimiter)
    hooks = [
        hook
        for registry in (
            app.before_request_funcs,
            app.after_request_funcs,
            app.teardown_request_funcs,
        )
        for scope in registry.values()
        for hook in scope
    ]
    for hook in hooks:
        assert getattr(hook, "__self__", None) is not limiter, hook
        assert not (isinstance(hook, partial) and limiter in hook.args), hook
