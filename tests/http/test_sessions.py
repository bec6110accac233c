"""Server-side sessions through HTTP: an opaque cookie, rotation, lifetimes, sign-out.

On PostgreSQL + Redis (CI's second run) the same tests use the Redis session store.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from authsvc import create_app
from authsvc.settings import Settings
from authsvc.storage.models import web_sessions
from tests.database import empty_tables
from tests.http.flows import Browser, advance_clock, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

ME = "/api/v1/me"


def _signed_up(client: FlaskClient, username: str = "ada") -> tuple[Browser, SoftAuthenticator]:
    browser, auth = Browser(client), SoftAuthenticator()
    assert browser.register(auth, username).status_code == 200
    return browser, auth


def _rows(app: Flask) -> int:
    """Session records stored: rows in SQL, keys in Redis (whose prefix the run shares, so
    tests compare counts before and after)."""
    settings = services(app).settings
    if settings.redis_url is not None:
        client = redis.Redis.from_url(settings.redis_url)
        try:
            return len(list(client.scan_iter(match=f"{settings.redis_prefix}session:*")))
        finally:
            client.close()
    with services(app).engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(web_sessions)).scalar_one())


def test_the_cookie_holds_only_an_opaque_id(client: FlaskClient) -> None:
    browser = Browser(client)
    browser.assertion_options()
    anonymous = browser.session_id()
    assert anonymous is not None
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", anonymous)  # 32 random bytes, base64url, no data
    signed_up = browser.register(SoftAuthenticator(), "ada")
    signed_in = browser.session_id()
    assert signed_in is not None and signed_in != anonymous
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", signed_in)
    (cookie,) = signed_up.headers.getlist("Set-Cookie")  # and no other cookie
    assert cookie.startswith(f"session={signed_in};")


def test_set_cookie_attributes(client: FlaskClient) -> None:
    browser, auth = _signed_up(client)
    response = browser.sign_in(auth, "ada")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie and "Secure" not in cookie


@pytest.fixture
def secure_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings.with_changes(secure_cookies=True))
    empty_tables(services(app).engine)
    yield app
    services(app).engine.dispose()


def test_secure_cookies_carry_the_host_prefix(secure_app: Flask) -> None:
    client = secure_app.test_client()
    response = client.post(
        "/assertion/options", json={}, headers={"Origin": "http://localhost:5000"}
    )
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_anonymous_visitors_store_no_session(app: Flask) -> None:
    before = _rows(app)
    for _ in range(20):
        Browser(app.test_client()).assertion_options()
    assert _rows(app) == before


def test_sign_up_signs_the_new_account_in(app: Flask, client: FlaskClient) -> None:
    browser = Browser(client)
    browser.registration_options("ada")
    anonymous = browser.session_id()
    before = _rows(app)
    _signed_up(client)
    assert browser.session_id() != anonymous  # rotated
    me = browser.call("GET", ME)
    assert me.status_code == 200, me.json
    assert me.json is not None
    assert me.json["username"] == "ada"
    assert me.json["session"]["userVerified"] is True
    assert me.json["session"]["verifiedAt"] is not None
    assert _rows(app) == before + 1
    row = audit_rows(services(app).engine)[-1]
    assert row["event"] == "registration"
    assert '"session"' in row["detail"]


def test_sign_up_without_uv_is_signed_in_without_it(client: FlaskClient) -> None:
    browser, auth = Browser(client), SoftAuthenticator(uv=False)
    assert browser.register(auth, "ada").status_code == 200
    me = browser.call("GET", ME).json
    assert me is not None
    assert me["session"]["userVerified"] is False
    assert me["session"]["verifiedAt"] is None


def test_the_id_changes_at_sign_in(app: Flask, client: FlaskClient) -> None:
    _, auth = _signed_up(client)
    other = Browser(app.test_client())
    other.assertion_options("ada")
    before = other.session_id()
    assert other.sign_in(auth, "ada").status_code == 200
    after = other.session_id()
    assert after is not None and after != before
    assert other.call("GET", ME).status_code == 200
    # the id planted before sign-in (session fixation) is worth nothing afterwards
    assert before is not None
    attacker = Browser(app.test_client())
    attacker.replay(before)
    problem(attacker.call("GET", ME), "unauthenticated", 401)


def test_the_store_holds_a_hash_of_the_id(app: Flask, client: FlaskClient) -> None:
    browser, _ = _signed_up(client)
    value = browser.session_id()
    assert value is not None
    me = browser.call("GET", ME).json
    assert me is not None
    assert me["session"]["id"] == hashlib.sha256(value.encode()).hexdigest()[:16]
    if services(app).settings.redis_url is None:
        with services(app).engine.connect() as conn:
            stored: bytes = conn.execute(select(web_sessions.c.id_hash)).scalar_one()
        assert bytes(stored) == hashlib.sha256(value.encode()).digest()


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/logout"), ("DELETE", "/api/v1/sessions/current")]
)
def test_sign_out_ends_the_session_and_a_replayed_cookie_gets_401(
    app: Flask, client: FlaskClient, method: str, path: str
) -> None:
    browser, _ = _signed_up(client)
    stolen = browser.session_id()
    assert stolen is not None
    before = _rows(app)
    response = browser.call(method, path)
    assert response.status_code == 204
    assert "session=;" in response.headers["Set-Cookie"]  # deleted
    attacker = Browser(app.test_client())
    attacker.replay(stolen)
    for method_, path_ in (("GET", ME), ("GET", "/api/v1/me/sessions"), ("POST", "/logout")):
        problem(attacker.call(method_, path_), "unauthenticated", 401)
    row = [r for r in audit_rows(services(app).engine) if r["event"] == "session.sign_out"]
    assert len(row) == 1 and row[0]["outcome"] == "success"
    assert _rows(app) == before - 1


def test_idle_timeout_ends_a_session(settings: Settings) -> None:
    app = create_app(settings.with_changes(session_idle_timeout=120, session_lifetime=600))
    empty_tables(services(app).engine)
    try:
        browser, _ = _signed_up(app.test_client())
        advance_clock(app, 100)
        assert browser.call("GET", ME).status_code == 200  # activity: last seen moves on
        advance_clock(app, 100)  # 200 s after sign-in, 100 s after the last request
        assert browser.call("GET", ME).status_code == 200
        advance_clock(app, 121)
        problem(browser.call("GET", ME), "unauthenticated", 401)
    finally:
        services(app).engine.dispose()


def test_absolute_lifetime_ends_a_busy_session(settings: Settings) -> None:
    app = create_app(settings.with_changes(session_idle_timeout=120, session_lifetime=300))
    empty_tables(services(app).engine)
    try:
        browser, _ = _signed_up(app.test_client())
        for _ in range(4):  # never idle for long
            advance_clock(app, 70)
            assert browser.call("GET", ME).status_code == 200
        advance_clock(app, 21)  # 301 s after sign-in
        problem(browser.call("GET", ME), "unauthenticated", 401)
    finally:
        services(app).engine.dispose()


def test_last_seen_is_written_at_most_once_a_minute(app: Flask, client: FlaskClient) -> None:
    browser, _ = _signed_up(client)

    def last_seen() -> str:
        me = browser.call("GET", ME).json
        assert me is not None
        value: str = me["session"]["lastSeenAt"]
        return value

    first = last_seen()
    advance_clock(app, 30)
    assert last_seen() == first
    advance_clock(app, 31)
    assert last_seen() != first


def test_a_user_lists_and_ends_their_sessions(app: Flask, client: FlaskClient) -> None:
    laptop, auth = _signed_up(client)
    phone = Browser(app.test_client())
    assert phone.sign_in(auth, "ada").status_code == 200
    listed = laptop.call("GET", "/api/v1/me/sessions").json
    assert listed is not None
    sessions = listed["sessions"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions] == [True, False]
    assert all(re.fullmatch(r"[0-9a-f]{16}", s["id"]) for s in sessions)
    raw = {laptop.session_id(), phone.session_id()}
    assert not any(str(v) in str(listed) for v in raw)  # never the raw id
    # the laptop ends the phone's session
    assert laptop.call("DELETE", f"/api/v1/me/sessions/{sessions[1]['id']}").status_code == 204
    problem(phone.call("GET", ME), "unauthenticated", 401)
    assert laptop.call("GET", ME).status_code == 200
    problem(laptop.call("DELETE", f"/api/v1/me/sessions/{sessions[1]['id']}"), "not_found", 404)
    problem(laptop.call("DELETE", "/api/v1/me/sessions/not-a-session"), "not_found", 404)


def test_another_users_session_cannot_be_ended(app: Flask, client: FlaskClient) -> None:
    ada, _ = _signed_up(client, "ada")
    bob, _ = _signed_up(app.test_client(), "bob")
    bobs = bob.call("GET", ME).json
    assert bobs is not None
    problem(ada.call("DELETE", f"/api/v1/me/sessions/{bobs['session']['id']}"), "not_found", 404)
    assert bob.call("GET", ME).status_code == 200


def test_sign_out_everywhere(app: Flask, client: FlaskClient) -> None:
    laptop, auth = _signed_up(client)
    phone = Browser(app.test_client())
    phone.sign_in(auth, "ada")
    bob, _ = _signed_up(app.test_client(), "bob")
    assert laptop.call("DELETE", "/api/v1/me/sessions").status_code == 204
    problem(laptop.call("GET", ME), "unauthenticated", 401)
    problem(phone.call("GET", ME), "unauthenticated", 401)
    assert bob.call("GET", ME).status_code == 200
    row = audit_rows(services(app).engine)[-1]
    assert (row["event"], row["outcome"]) == ("session.revoke_all", "success")
    assert '"sessions_ended":2' in row["detail"]


def test_signing_in_as_someone_else_ends_the_first_session(app: Flask, client: FlaskClient) -> None:
    browser, _ = _signed_up(client, "ada")
    first = browser.session_id()
    bob = SoftAuthenticator()
    Browser(app.test_client()).register(bob, "bob")
    assert browser.sign_in(bob, "bob").status_code == 200
    me = browser.call("GET", ME).json
    assert me is not None and me["username"] == "bob"
    assert first is not None
    replayed = Browser(app.test_client())
    replayed.replay(first)
    problem(replayed.call("GET", ME), "unauthenticated", 401)


def test_a_forged_cookie_is_anonymous(app: Flask) -> None:
    browser = Browser(app.test_client())
    for value in ("A" * 43, "x", "A" * 44, "é" * 43):
        browser.replay(value)
        problem(browser.call("GET", ME), "unauthenticated", 401)
