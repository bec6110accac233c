"""The /api/v1 ceremonies without cookies: ceremonyId state, outcomes, refusals."""

from __future__ import annotations

import json

from flask import Flask
from redis import Redis
from sqlalchemy import text

from authsvc.ceremony.state import CeremonyKind, api_binding, ceremony_id
from authsvc.services.outcomes import hardware_key
from tests.http.admin_flows import signed_in_admin
from tests.http.api_flows import (
    REGISTRATION_OPTIONS,
    REGISTRATIONS,
    SESSIONS,
    App,
    body,
    claims,
    issue_token,
)
from tests.http.flows import (
    Browser,
    advance_clock,
    audit_rows,
    challenge_rows,
    problem,
    services,
    stored_state,
)
from tests.http.token_flows import call
from tests.softauthn import SoftAuthenticator


def _signed_up(app: Flask, username: str = "ada") -> tuple[App, SoftAuthenticator]:
    admin, _ = signed_in_admin(app)
    app_client = App.of(app)
    auth = SoftAuthenticator()
    response = app_client.register(auth, issue_token(admin, username, "Ada"))
    assert response.status_code == 201, response.get_data(as_text=True)
    return app_client, auth


def test_sign_up_and_sign_in_without_cookies(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    client = App.of(app)
    auth = SoftAuthenticator()
    ceremony, options = client.begin_registration(issue_token(admin, "ada", "Ada Lovelace"))
    assert len(ceremony) == 43
    assert options["user"]["name"] == "ada"
    assert options["user"]["displayName"] == "Ada Lovelace"
    assert options["rp"]["id"] == "localhost"
    response = client.finish_registration(ceremony, auth.create(options, origin=client.origin))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers.get("Set-Cookie") is None
    assert response.headers["Cache-Control"] == "no-store"
    registered = body(response)
    assert registered["credential"]["status"] == "active"
    assert registered["credential"]["signedInThisSession"] is True
    assert registered["token_type"] == "Bearer"
    assert claims(registered["access_token"])["amr"] == ["swk", "user"]

    signed_in = client.sign_in(auth, "ada")
    assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
    assert signed_in.headers.get("Set-Cookie") is None
    grant = body(signed_in)
    assert set(grant) == {"access_token", "token_type", "expires_in", "refresh_token"}
    me = call(client.client, "GET", "/api/v1/me", grant["access_token"])
    assert me.status_code == 200
    assert body(me)["username"] == "ada"


def test_discoverable_sign_in_names_nobody_in_the_options(app: Flask) -> None:
    client, auth = _signed_up(app)
    ceremony, options = client.begin_sign_in()
    assert options["allowCredentials"] == []
    response = client.finish_sign_in(ceremony, auth.get(options, origin=client.origin))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_sign_in_is_audited_with_its_origin_and_token_session(app: Flask) -> None:
    client, auth = _signed_up(app)
    assert client.sign_in(auth, "ada").status_code == 200
    event = audit_rows(services(app).engine)[-1]
    assert (event["event"], event["outcome"], event["origin"]) == (
        "authentication",
        "success",
        "http://localhost:5000",
    )
    detail = json.loads(event["detail"])
    assert detail["token_session"]
    assert "session" not in detail  # no cookie session was opened


def test_a_signed_in_browser_adds_a_passkey_with_step_up(app: Flask) -> None:
    browser = Browser(app.test_client())
    first = SoftAuthenticator()
    assert browser.register(first, "bea").status_code == 200  # a sign-up has UV: fresh
    started = browser.post(REGISTRATION_OPTIONS, {})
    assert started.status_code == 200, started.get_data(as_text=True)
    options = body(started)
    excluded = {c["id"] for c in options["publicKey"]["excludeCredentials"]}
    assert len(excluded) == 1
    second = SoftAuthenticator()
    created = second.create(options["publicKey"], origin=browser.origin)
    response = browser.post(
        REGISTRATIONS, {"ceremonyId": options["ceremonyId"], "credential": created}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    added = body(response)
    assert set(added) == {"credential"}  # no tokens: the browser has its session
    assert added["credential"]["signedInThisSession"] is False
    _, creds = stored_state(services(app).engine)
    assert len(creds) == 2


def test_adding_a_passkey_needs_a_fresh_step_up(app: Flask) -> None:
    browser = Browser(app.test_client())
    assert browser.register(SoftAuthenticator(), "bea").status_code == 200
    advance_clock(app, 600)  # past the default policy's 300 s, within the idle timeout
    problem(browser.post(REGISTRATION_OPTIONS, {}), "step_up_required", 401)


def test_a_token_session_adds_a_passkey(app: Flask) -> None:
    client, auth = _signed_up(app)
    token = body(client.sign_in(auth, "ada"))["access_token"]
    phone = App.of(app, headers={"Authorization": f"Bearer {token}"})
    response = phone.register(SoftAuthenticator())
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "access_token" not in body(response)
    assert len(body(call(phone.client, "GET", "/api/v1/me/credentials", token))["credentials"]) == 2


def test_a_stale_token_session_needs_a_step_up(app: Flask) -> None:
    client, auth = _signed_up(app)
    grant = body(client.sign_in(auth, "ada"))
    advance_clock(app, 3600)
    refreshed = client.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.get_data(as_text=True)
    phone = App.of(app, headers={"Authorization": f"Bearer {body(refreshed)['access_token']}"})
    problem(phone.registration_options(), "step_up_required", 401)


def test_registration_options_need_a_session_or_a_token(app: Flask) -> None:
    problem(App.of(app).registration_options(), "unauthenticated", 401)
    problem(App.of(app).registration_options("A" * 43), "unauthenticated", 401)


def test_an_unknown_ceremony_id_is_challenge_unknown(app: Flask) -> None:
    client, auth = _signed_up(app)
    _, options = client.begin_sign_in("ada")
    asserted = auth.get(options, origin=client.origin)
    problem(client.finish_sign_in("B" * 43, asserted), "challenge_unknown")


def test_a_ceremony_id_is_used_once(app: Flask) -> None:
    client, auth = _signed_up(app)
    ceremony, options = client.begin_sign_in("ada")
    asserted = auth.get(options, origin=client.origin)
    assert client.finish_sign_in(ceremony, asserted).status_code == 200
    problem(client.finish_sign_in(ceremony, asserted), "challenge_unknown")


def test_an_expired_ceremony_is_challenge_expired(app: Flask) -> None:
    client, auth = _signed_up(app)
    ceremony, options = client.begin_sign_in("ada")
    asserted = auth.get(options, origin=client.origin)
    advance_clock(app, services(app).settings.challenge_ttl + 1)
    problem(client.finish_sign_in(ceremony, asserted), "challenge_expired")


def test_a_ceremony_of_the_other_kind_is_challenge_unknown(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    client = App.of(app)
    auth = SoftAuthenticator()
    ceremony, options = client.begin_registration(issue_token(admin, "ada"))
    created = auth.create(options, origin=client.origin)
    problem(client.post(SESSIONS, {"ceremonyId": ceremony, "credential": created}), "malformed")
    # a sign-in's ceremonyId does not open a registration, and is left usable
    signed_up = client.finish_registration(ceremony, created)
    assert signed_up.status_code == 201
    sign_in_id, sign_in_options = client.begin_sign_in("ada")
    problem(client.finish_registration(sign_in_id, created), "challenge_unknown")
    asserted = auth.get(sign_in_options, origin=client.origin)
    assert client.finish_sign_in(sign_in_id, asserted).status_code == 200


def test_an_api_ceremony_is_not_a_cookie_sessions(app: Flask) -> None:
    client, auth = _signed_up(app)
    _, options = client.begin_sign_in("ada")
    browser = Browser(app.test_client())
    browser.assertion_options("ada")  # the browser's own pending sign-in
    asserted = auth.get(options, origin=client.origin)
    problem(browser.post("/assertion/result", asserted), "challenge_mismatch")


def test_the_state_is_stored_under_the_hash_of_the_ceremony_id(app: Flask) -> None:
    client, _ = _signed_up(app)
    ceremony, _ = client.begin_sign_in("ada")
    key = ceremony_id(CeremonyKind.AUTHENTICATION, api_binding(ceremony))
    settings = services(app).settings
    stored: list[tuple[str, str]]
    if settings.redis_url is None:
        with services(app).engine.connect() as conn:
            rows = conn.execute(text("SELECT id, data FROM challenges"))
            stored = [(str(r[0]), str(r[1])) for r in rows]
    else:
        redis = Redis.from_url(settings.redis_url, decode_responses=True)
        names = [str(n) for n in redis.keys(settings.redis_prefix + "*")]
        stored = [
            (n.removeprefix(settings.redis_prefix), str(redis.get(n)))
            for n in names
            if len(n) == len(settings.redis_prefix) + 64
        ]
    # (Redis keeps earlier tests' state under the run's prefix until it expires)
    assert key in {row[0] for row in stored}
    assert all(ceremony not in name and ceremony not in data for name, data in stored)


def test_hostile_bodies_are_malformed_and_write_nothing(app: Flask) -> None:
    client, _ = _signed_up(app)
    engine = services(app).engine
    before = stored_state(engine), challenge_rows(engine)
    for payload in (
        {},
        {"ceremonyId": "short", "credential": {}},
        {"ceremonyId": "A" * 43},
        {"ceremonyId": "A" * 43, "credential": {"id": "x"}},
        {"ceremonyId": "A" * 43, "credential": [], "extra": 1},
        {
            "ceremonyId": "A" * 43,
            "credential": {
                "id": "AA",
                "rawId": "AA",
                "type": "public-key",
                "response": {"clientDataJSON": "!!", "authenticatorData": "", "signature": ""},
            },
        },
    ):
        for path in (SESSIONS, REGISTRATIONS):
            problem(client.post(path, payload), "malformed")
    problem(client.post("/api/v1/sessions/options", {"username": 5}), "malformed")
    problem(client.post("/api/v1/sessions/options", {"clientId": "../x"}), "malformed")
    problem(client.post("/api/v1/sessions/options", {"username": "a b"}), "malformed")
    assert (stored_state(engine), challenge_rows(engine)) == before


def test_an_unknown_client_id_is_refused_at_the_result(app: Flask) -> None:
    client, auth = _signed_up(app)
    named = App(client.client, client_id="com.example.unknown")
    ceremony, options = named.begin_sign_in("ada")
    response = named.finish_sign_in(ceremony, auth.get(options, origin=named.origin))
    problem(response, "origin_mismatch")


def test_hardware_key_needs_proof_and_a_device_bound_key() -> None:
    assert hardware_key(aaguid_proven=True, backup_eligible=False)
    assert not hardware_key(aaguid_proven=True, backup_eligible=True)
    assert not hardware_key(aaguid_proven=False, backup_eligible=False)


def _shape(options: dict[str, object]) -> dict[str, str]:
    return {key: type(value).__name__ for key, value in options.items()}


def test_an_unknown_username_answers_like_a_known_one(app: Flask) -> None:
    client, auth = _signed_up(app)
    known_id, known = client.begin_sign_in("ada")
    unknown_id, unknown = client.begin_sign_in("nobody")
    assert len(unknown_id) == len(known_id) == 43
    assert _shape(unknown) == _shape(known)
    assert 1 <= len(unknown["allowCredentials"]) <= 3
    for descriptor in unknown["allowCredentials"]:
        assert set(descriptor) <= {"type", "id", "transports"}
        assert descriptor["type"] == "public-key"
    _, again = client.begin_sign_in("NOBODY")  # the same account, the same decoys
    assert again["allowCredentials"] == unknown["allowCredentials"]
    assert again["challenge"] != unknown["challenge"]
    # the real passkey answering the decoy options fails as a wrong key does
    asserted = auth.get(unknown, origin=client.origin, credential=auth.credentials[0])
    problem(client.finish_sign_in(unknown_id, asserted), "credential_unknown")
