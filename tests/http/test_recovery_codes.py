"""Recovery codes over HTTP: shown once, hashed at rest, single use, step-up, uniform failure."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from authsvc.settings import Settings
from authsvc.storage.models import recovery_codes
from tests.http.flows import Browser, advance_clock, problem, services
from tests.http.recovery_flows import CODES, USE_CODE, events, me, user_id, with_codes
from tests.http.test_rate_limits import SMALL, at, limited_app, refused

CODE_SHAPE = re.compile(r"[A-Z2-7]{5}-[A-Z2-7]{5}")


def test_codes_are_shown_once_and_only_counted_afterwards(app: Flask) -> None:
    browser, _, codes = with_codes(app)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(CODE_SHAPE.fullmatch(c) for c in codes)
    listed = browser.call("GET", CODES)
    assert listed.status_code == 200
    assert listed.json is not None
    assert listed.json["remaining"] == 10
    assert listed.json["allowed"] is True
    assert listed.json["generatedAt"] is not None
    assert not any(c in listed.get_data(as_text=True) for c in codes)
    [made] = events(app, "recovery.codes_generated")
    assert made["outcome"] == "success"
    assert not any(c in (made["detail"] or "") for c in codes)


def test_codes_are_stored_only_as_keyed_hashes(app: Flask) -> None:
    _, _, codes = with_codes(app)
    ada = user_id(app, "ada")
    with services(app).engine.connect() as conn:
        hashes: list[bytes] = list(conn.execute(select(recovery_codes.c.code_hash)).scalars())
    stored = {bytes(h) for h in hashes}
    secret = services(app).settings.secret_key.encode()
    key = hmac.new(secret, b"authsvc recovery-code key", hashlib.sha256).digest()
    expected = {
        hmac.new(key, ada.to_bytes(8, "big") + c.replace("-", "").encode(), hashlib.sha256).digest()
        for c in codes
    }
    assert stored == expected
    for code in codes:
        assert all(code.replace("-", "").encode() not in h for h in stored)


def test_a_code_signs_in_a_recovered_session_once(app: Flask) -> None:
    _, _, codes = with_codes(app)
    lost = Browser(app.test_client())  # a new device: no passkey, no session
    used = lost.post(USE_CODE, {"username": "ada", "code": codes[0].lower().replace("-", " ")})
    assert used.status_code == 200, used.json
    assert used.json == {"status": "ok", "recovered": True}
    assert me(lost)["session"]["recovered"] is True
    again = Browser(app.test_client())
    problem(again.post(USE_CODE, {"username": "ada", "code": codes[0]}), "unauthenticated", 401)
    remaining = lost.call("GET", CODES).json
    assert remaining is not None and remaining["remaining"] == 9
    outcomes = [(e["outcome"], e["code"]) for e in events(app, "recovery.code_used")]
    assert outcomes == [("success", None), ("failure", "unauthenticated")]


def test_two_concurrent_uses_of_one_code_succeed_once(app: Flask) -> None:
    _, _, codes = with_codes(app)
    browsers = [Browser(app.test_client()) for _ in range(6)]
    barrier = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def use(browser: Browser) -> None:
        barrier.wait()
        statuses.append(browser.post(USE_CODE, {"username": "ada", "code": codes[3]}).status_code)

    threads = [threading.Thread(target=use, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 5
    assert [e["outcome"] for e in events(app, "recovery.code_used")].count("success") == 1


def test_a_wrong_code_and_an_unknown_user_fail_alike(app: Flask) -> None:
    _, _, codes = with_codes(app)
    stranger = Browser(app.test_client())
    wrong = problem(
        stranger.post(USE_CODE, {"username": "ada", "code": "AAAAA-AAAAA"}), "unauthenticated", 401
    )
    nobody = problem(
        stranger.post(USE_CODE, {"username": "bob", "code": codes[0]}), "unauthenticated", 401
    )
    garbage = problem(
        stranger.post(USE_CODE, {"username": "ada", "code": "x"}), "unauthenticated", 401
    )
    assert wrong == nobody == garbage
    problem(stranger.call("GET", "/api/v1/me"), "unauthenticated", 401)
    assert stranger.post(USE_CODE, {"username": "ada", "code": codes[0]}).status_code == 200


def test_a_code_is_bound_to_its_account(app: Flask) -> None:
    _, _, ada_codes = with_codes(app, "ada")
    with_codes(app, "bob")
    thief = Browser(app.test_client())
    problem(thief.post(USE_CODE, {"username": "bob", "code": ada_codes[0]}), "unauthenticated", 401)


def test_a_disabled_account_cannot_recover(app: Flask) -> None:
    from tests.http.admin_flows import signed_in_admin  # noqa: PLC0415 - only here

    _, _, codes = with_codes(app)
    admin, _ = signed_in_admin(app)
    ada = user_id(app, "ada")
    assert admin.call("PUT", f"/users/{ada}/status", {"status": "disabled"}).status_code == 200
    problem(
        Browser(app.test_client()).post(USE_CODE, {"username": "ada", "code": codes[0]}),
        "unauthenticated",
        401,
    )


def test_regenerating_needs_a_step_up_and_replaces_the_set(app: Flask) -> None:
    browser, _, old = with_codes(app)
    advance_clock(app, 301)  # the default policy's step-up window has passed
    problem(browser.call("POST", CODES), "step_up_required", 401)
    listed = browser.call("GET", CODES).json
    assert listed is not None and listed["remaining"] == 10  # the refusal changed nothing
    assert (
        Browser(app.test_client()).post(USE_CODE, {"username": "ada", "code": old[0]}).status_code
        == 200
    )
    generated = events(app, "recovery.codes_generated")
    assert [e["code"] for e in generated] == [None, "step_up_required"]


def test_regenerating_after_a_step_up_invalidates_the_old_set(app: Flask) -> None:
    browser, auth, old = with_codes(app)
    advance_clock(app, 301)
    assert (
        browser.sign_in(auth, "ada", options_body={"userVerification": "required"}).status_code
        == 200
    )
    made = browser.call("POST", CODES)
    assert made.status_code == 201
    assert made.json is not None
    new = made.json["codes"]
    assert not set(new) & set(old)
    other = Browser(app.test_client())
    problem(other.post(USE_CODE, {"username": "ada", "code": old[0]}), "unauthenticated", 401)
    assert other.post(USE_CODE, {"username": "ada", "code": new[0]}).status_code == 200


def test_codes_need_a_session(app: Flask) -> None:
    anonymous = Browser(app.test_client())
    problem(anonymous.call("GET", CODES), "unauthenticated", 401)
    problem(anonymous.call("POST", CODES), "unauthenticated", 401)


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ada"},
        {"code": "AAAAA-AAAAA"},
        {"username": "ada", "code": 12345},
        {"username": "ada", "code": "A" * 65},
        {"username": "ada", "code": "AAAAA-AAAAA", "extra": 1},
    ],
)
def test_a_malformed_use_is_refused_before_anything_is_looked_up(app: Flask, body: object) -> None:
    problem(Browser(app.test_client()).post(USE_CODE, body), "malformed", 400)
    assert events(app, "recovery.code_used") == []


@pytest.fixture
def limited(settings: Settings) -> Iterator[Flask]:
    yield from limited_app(
        settings,
        **SMALL,
        rate_limit_recovery="6/hour",
        rate_limit_recovery_account="3/hour",
    )


def test_code_attempts_are_limited_per_account_and_per_address(limited: Flask) -> None:
    attacker = at(limited, "192.0.2.66")
    for _ in range(3):
        problem(
            attacker.post(USE_CODE, {"username": "ada", "code": "AAAAA-AAAAA"}),
            "unauthenticated",
            401,
        )
    refused(attacker.post(USE_CODE, {"username": "ada", "code": "AAAAA-AAAAA"}))
    # another account from the same address still counts against the address limit
    for _ in range(2):
        problem(
            attacker.post(USE_CODE, {"username": "bob", "code": "AAAAA-AAAAA"}),
            "unauthenticated",
            401,
        )
    refused(attacker.post(USE_CODE, {"username": "carol", "code": "AAAAA-AAAAA"}))
    # the owner, from elsewhere, is not locked out
    owner = at(limited, "198.51.100.7")
    problem(
        owner.post(USE_CODE, {"username": "ada", "code": "AAAAA-AAAAA"}), "unauthenticated", 401
    )
    limits = events(limited, "rate_limit")
    assert {e["detail"].split('"limit":"')[1].split('"')[0] for e in limits} == {
        "recovery",
        "recovery-account",
    }
