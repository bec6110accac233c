"""Registration tokens: issued by an admin or an app back end, redeemed once by a passkey."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import text

from tests.http.admin_flows import signed_in_admin
from tests.http.api_flows import App, basic, body, issue_token
from tests.http.flows import (
    Browser,
    advance_clock,
    audit_rows,
    problem,
    services,
    stored_state,
)
from tests.softauthn import SoftAuthenticator

BACKEND = "/api/v1/registration-tokens"


def _users(app: Flask) -> list[str]:
    users, _ = stored_state(services(app).engine)
    return [row[1] for row in users]


def _credentials_of(app: Flask, username: str) -> int:
    with services(app).engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM credentials c JOIN users u ON u.id = c.user_id "
                    "WHERE u.username = :name"
                ),
                {"name": username},
            ).scalar_one()
        )


def _ios_app(app: Flask) -> tuple[str, str]:
    admin, _ = signed_in_admin(app)
    added = admin.call("POST", "/apps", {"platform": "ios", "appId": "ABCDE12345.com.example.ios"})
    assert added.status_code == 201, added.get_data(as_text=True)
    return body(added)["clientId"], body(added)["clientSecret"]


def test_an_admin_token_makes_the_account_and_is_audited(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    response = admin.call("POST", "/registration-tokens", {"username": "Ada", "displayName": "A"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    issued = body(response)
    assert issued["created"] is True and issued["username"] == "Ada"
    assert 3590 <= issued["expiresIn"] <= 3600
    assert "Ada" in _users(app)
    assert _credentials_of(app, "Ada") == 0
    event = audit_rows(services(app).engine)[-1]
    assert (event["event"], event["outcome"]) == ("admin.registration_token.issued", "success")
    assert issued["registrationToken"] not in (event["detail"] or "")
    with services(app).engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash, purpose FROM one_time_tokens")).all()
    assert [row[1] for row in stored] == ["registration"]
    assert len(stored[0][0]) == 32  # SHA-256 only


def test_a_token_is_used_once(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    token = issue_token(admin, "ada")
    client = App.of(app)
    assert client.register(SoftAuthenticator(), token).status_code == 201
    problem(client.registration_options(token), "unauthenticated", 401)


def test_two_ceremonies_with_one_token_store_one_credential(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    token = issue_token(admin, "ada")
    first, second = App.of(app), App.of(app)
    one, one_options = first.begin_registration(token)
    two, two_options = second.begin_registration(token)
    created = SoftAuthenticator().create(one_options, origin=first.origin)
    assert first.finish_registration(one, created).status_code == 201
    late = SoftAuthenticator().create(two_options, origin=second.origin)
    problem(second.finish_registration(two, late), "unauthenticated", 401)
    assert _credentials_of(app, "ada") == 1


def test_an_expired_token_is_refused(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    token = issue_token(admin, "ada")
    advance_clock(app, services(app).settings.registration_token_ttl + 1)
    problem(App.of(app).registration_options(token), "unauthenticated", 401)


def test_a_token_expiring_during_the_ceremony_is_refused(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    token = issue_token(admin, "ada")
    client = App.of(app)
    advance_clock(app, services(app).settings.registration_token_ttl - 10)
    ceremony, options = client.begin_registration(token)
    advance_clock(app, 20)
    created = SoftAuthenticator().create(options, origin=client.origin)
    problem(client.finish_registration(ceremony, created), "unauthenticated", 401)


def test_a_token_of_another_purpose_is_refused(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    browser = Browser(app.test_client())
    assert browser.register(SoftAuthenticator(), "bea").status_code == 200
    users, _ = stored_state(services(app).engine)
    bea = next(row[0] for row in users if row[1] == "bea")
    link = admin.call("POST", f"/users/{bea}/recovery-link")
    assert link.status_code == 201, link.get_data(as_text=True)
    recovery_token = body(link)["url"].split("#", 1)[1]
    problem(App.of(app).registration_options(recovery_token), "unauthenticated", 401)
    registration = issue_token(admin, "cy")
    refused = App.of(app).post("/api/v1/recovery/link", {"token": registration})
    problem(refused, "unauthenticated", 401)


def test_a_failed_ceremony_does_not_spend_the_token(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    token = issue_token(admin, "ada")
    client = App.of(app)
    auth = SoftAuthenticator()
    ceremony, options = client.begin_registration(token)
    wrong = auth.create(options, origin="https://evil.example")
    problem(client.finish_registration(ceremony, wrong), "origin_mismatch")
    assert _credentials_of(app, "ada") == 0
    assert client.register(SoftAuthenticator(), token).status_code == 201


def test_a_token_for_an_existing_account_adds_a_passkey(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    browser = Browser(app.test_client())
    assert browser.register(SoftAuthenticator(), "bea").status_code == 200
    issued = admin.call("POST", "/registration-tokens", {"username": "BEA"})
    assert body(issued)["created"] is False and body(issued)["username"] == "bea"
    client = App.of(app)
    _, options = client.begin_registration(body(issued)["registrationToken"])
    assert len(options["excludeCredentials"]) == 1
    assert options["user"]["name"] == "bea"
    # the options did not spend it: the registration does
    assert (
        client.register(SoftAuthenticator(), body(issued)["registrationToken"]).status_code == 201
    )
    assert _credentials_of(app, "bea") == 2


def test_only_an_admin_with_step_up_issues_tokens(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    browser = Browser(app.test_client())
    assert browser.register(SoftAuthenticator(), "bea").status_code == 200
    refused = browser.call("POST", "/api/v1/admin/registration-tokens", {"username": "x"})
    problem(refused, "forbidden", 403)
    advance_clock(app, 600)
    problem(admin.call("POST", "/registration-tokens", {"username": "x"}), "step_up_required", 401)
    assert "x" not in _users(app)


def test_a_bad_username_is_malformed_and_makes_no_account(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    before = _users(app)
    for name in ("a b", "", "x" * 65, "full\u200b"):
        problem(admin.call("POST", "/registration-tokens", {"username": name}), "malformed")
    problem(
        admin.call("POST", "/registration-tokens", {"username": "ok", "role": "admin"}), "malformed"
    )
    assert _users(app) == before


def test_an_app_back_end_issues_a_token_with_its_secret(app: Flask) -> None:
    client_id, secret = _ios_app(app)
    response = App.of(app).client.post(
        BACKEND, json={"username": "dee", "displayName": "Dee"}, headers=basic(client_id, secret)
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    event = audit_rows(services(app).engine)[-1]
    assert event["event"] == "registration_token.issued"
    assert json.loads(event["detail"])["app"] == client_id
    client = App.of(app, client_id=client_id)
    signed_up = client.register(SoftAuthenticator(), body(response)["registrationToken"])
    assert signed_up.status_code == 201, signed_up.get_data(as_text=True)


def test_a_wrong_secret_is_401_and_makes_nothing(app: Flask) -> None:
    client_id, secret = _ios_app(app)
    before = _users(app)
    http = App.of(app).client
    for headers in (
        basic(client_id, secret[:-1] + ("A" if secret[-1] != "A" else "B")),
        basic("ABCDE12345.com.example.other", secret),
        {"Authorization": "Basic !!!"},
        {"Authorization": f"Bearer {secret}"},
        {},
    ):
        refused = http.post(BACKEND, json={"username": "dee"}, headers=headers)
        problem(refused, "unauthenticated", 401)
        assert refused.headers["WWW-Authenticate"].startswith("Basic ")
    assert _users(app) == before
    assert audit_rows(services(app).engine)[-1]["outcome"] == "failure"


def test_an_app_back_end_cannot_issue_for_an_admin(app: Flask) -> None:
    client_id, secret = _ios_app(app)  # the admin is "root"
    refused = App.of(app).client.post(
        BACKEND, json={"username": "root"}, headers=basic(client_id, secret)
    )
    problem(refused, "forbidden", 403)
