"""Token sessions over HTTP: access tokens at our API, refresh, rotation, reuse, revocation."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from flask import Flask
from joserfc import jwt
from sqlalchemy import func, select

from authsvc.services.operations import promote_admin
from authsvc.storage.models import refresh_tokens, token_sessions
from mobile_bridge.signing_keys import generate
from tests.http.admin_flows import signed_in_admin
from tests.http.flows import advance_clock, audit_rows, problem, services
from tests.http.token_flows import Account, api_client, call, refresh, sign_up, start_tokens
from tests.softauthn import SoftAuthenticator

ME = "/api/v1/me"


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return claims


def _families(app: Flask) -> int:
    with services(app).engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(token_sessions)).scalar_one())


def test_an_access_token_signs_in_without_a_cookie(app: Flask) -> None:
    account = sign_up(app)
    grant = start_tokens(app, account)
    assert grant.token_type == "Bearer" and grant.expires_in == 300
    response = call(api_client(app), "GET", ME, grant)
    assert response.status_code == 200, response.json
    assert response.json is not None and response.json["username"] == "ada"
    assert "Set-Cookie" not in response.headers
    assert response.headers["DPoP-Nonce"]


def test_the_access_token_says_who_how_and_when(app: Flask) -> None:
    account = sign_up(app)
    claims = _claims(start_tokens(app, account, hardware_key=True).access_token)
    assert claims["iss"] == claims["aud"] == "http://localhost:5000"
    assert base64.urlsafe_b64decode(claims["sub"] + "==") == account.user_handle
    assert base64.urlsafe_b64decode(claims["credential_id"] + "==") == account.credential_id
    assert claims["amr"] == ["hwk", "user"]
    assert claims["exp"] - claims["iat"] == 300
    assert claims["auth_time"] == claims["iat"]
    assert "cnf" not in claims and "client_id" not in claims
    unverified = _claims(start_tokens(app, account, user_verified=False).access_token)
    assert unverified["amr"] == ["swk"] and "auth_time" not in unverified


def test_an_expired_access_token_is_refused(app: Flask) -> None:
    grant = start_tokens(app, sign_up(app))
    advance_clock(app, 300 + 31)
    problem(call(api_client(app), "GET", ME, grant), "unauthenticated", 401)


def test_a_flipped_signature_byte_is_refused(app: Flask) -> None:
    head, body, sig = start_tokens(app, sign_up(app)).access_token.split(".")
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    problem(call(api_client(app), "GET", ME, f"{head}.{body}.{flipped}"), "unauthenticated", 401)


def test_a_key_not_in_the_jwks_is_refused(app: Flask) -> None:
    grant = start_tokens(app, sign_up(app))
    stranger = generate(0)
    header = {"typ": "at+jwt", "alg": "ES256", "kid": stranger.kid}
    forged = jwt.encode(header, _claims(grant.access_token), stranger.key)
    problem(call(api_client(app), "GET", ME, forged), "unauthenticated", 401)
    kid = json.loads(base64.urlsafe_b64decode(grant.access_token.split(".")[0] + "=="))["kid"]
    same_kid = jwt.encode({**header, "kid": kid}, _claims(grant.access_token), stranger.key)
    problem(call(api_client(app), "GET", ME, same_kid), "unauthenticated", 401)


def test_a_token_for_another_audience_is_refused(app: Flask) -> None:
    account = sign_up(app)
    svc = services(app)
    app.extensions["authsvc"] = type(svc)(
        **{
            **vars(svc),
            "settings": svc.settings.with_changes(token_audience="https://other.example"),
        }
    )
    other = start_tokens(app, account)
    assert _claims(other.access_token)["aud"] == "https://other.example"
    app.extensions["authsvc"] = svc
    problem(call(api_client(app), "GET", ME, other), "unauthenticated", 401)


def test_refreshing_rotates_the_refresh_token(app: Flask) -> None:
    grant = start_tokens(app, sign_up(app))
    client = api_client(app)
    first = refresh(client, grant.refresh_token)
    assert first.status_code == 200, first.json
    body = first.json
    assert body is not None and set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
    }
    assert body["refresh_token"] != grant.refresh_token
    assert first.headers["Cache-Control"] == "no-store"
    assert _claims(body["access_token"])["sid"] == _claims(grant.access_token)["sid"]
    second = refresh(client, body["refresh_token"], path="/api/v1/sessions/refresh")
    assert second.status_code == 200, second.json
    assert call(client, "GET", ME, second.json["access_token"]).status_code == 200  # type: ignore[index]
    with services(app).engine.connect() as conn:
        stored: list[bytes] = list(conn.execute(select(refresh_tokens.c.token_hash)).scalars())
    assert all(len(h) == 32 for h in stored)  # SHA-256 only, never the token
    assert grant.refresh_token.encode() not in b"".join(stored)


def test_a_reused_refresh_token_ends_the_whole_session(app: Flask) -> None:
    grant = start_tokens(app, sign_up(app))
    client = api_client(app)
    newer = refresh(client, grant.refresh_token).json
    assert newer is not None
    reused = problem(refresh(client, grant.refresh_token), "token_invalid")
    assert reused["error"] == "invalid_grant"
    problem(refresh(client, newer["refresh_token"]), "token_invalid")  # the newer one died too
    problem(call(client, "GET", ME, newer["access_token"]), "unauthenticated", 401)
    assert _families(app) == 0
    event = audit_rows(services(app).engine)[-1]
    assert (event["event"], event["outcome"], event["code"]) == (
        "token.refresh",
        "failure",
        "token_invalid",
    )
    assert json.loads(event["detail"])["reuse"] is True


def test_two_racing_refreshes_only_one_wins(app: Flask) -> None:
    grant = start_tokens(app, sign_up(app))
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def race() -> None:
        client = api_client(app)
        barrier.wait()
        statuses.append(refresh(client, grant.refresh_token).status_code)

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400]
    with services(app).engine.connect() as conn:
        spent = conn.execute(
            select(func.count())
            .select_from(refresh_tokens)
            .where(refresh_tokens.c.used_at.is_not(None))
        ).scalar_one()
    # the loser saw a spent token: a reuse, so the session ended with it (RFC 9700 §4.14.2)
    assert (spent, _families(app)) == (0, 0)


def test_an_unknown_or_malformed_refresh_is_refused_without_an_audit_row(app: Flask) -> None:
    client = api_client(app)
    before = len(audit_rows(services(app).engine))
    problem(refresh(client, "A" * 43), "token_invalid")
    problem(refresh(client, "not a token"), "token_invalid")
    assert len(audit_rows(services(app).engine)) == before


def test_the_token_endpoint_speaks_oauth_errors(app: Flask) -> None:
    client = api_client(app)
    wrong = client.post("/oauth/token", data={"grant_type": "password"})
    assert problem(wrong, "malformed")["error"] == "unsupported_grant_type"
    missing = client.post("/oauth/token", data={"grant_type": "refresh_token"})
    assert problem(missing, "malformed")["error"] == "invalid_request"
    doubled = client.post(
        "/oauth/token",
        data="grant_type=refresh_token&grant_type=refresh_token",
        content_type="application/x-www-form-urlencoded",
    )
    assert problem(doubled, "malformed")["error"] == "invalid_request"
    as_json = client.post("/oauth/token", json={"grant_type": "refresh_token"})
    assert problem(as_json, "malformed")["error"] == "invalid_request"


def test_a_refresh_past_the_idle_or_absolute_expiry_is_refused(app: Flask) -> None:
    account = sign_up(app)
    grant = start_tokens(app, account)
    advance_clock(app, 14 * 86_400 + 1)
    problem(refresh(api_client(app), grant.refresh_token), "token_invalid")
    assert _families(app) == 0


def _second_passkey(account: Account) -> SoftAuthenticator:
    auth = SoftAuthenticator()
    assert account.browser.register(auth, "ada").status_code == 200
    return auth


def test_deleting_the_credential_revokes_its_tokens(app: Flask) -> None:
    account = sign_up(app)
    _second_passkey(account)
    grant = start_tokens(app, account)
    client = api_client(app)
    deleted = call(client, "DELETE", f"/api/v1/me/credentials/{account.credential_pk}", grant)
    assert deleted.status_code == 204, deleted.json
    assert "Set-Cookie" not in deleted.headers
    problem(call(client, "GET", ME, grant), "unauthenticated", 401)
    problem(refresh(client, grant.refresh_token), "token_invalid")
    detail = json.loads(audit_rows(services(app).engine)[-1]["detail"])
    assert detail["token_sessions_ended"] == 1


def test_disabling_the_user_revokes_their_tokens(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    account = sign_up(app)
    grant = start_tokens(app, account)
    client = api_client(app)
    disabled = admin.call("PUT", f"/users/{account.user_id}/status", {"status": "disabled"})
    assert disabled.status_code == 200, disabled.json
    problem(call(client, "GET", ME, grant), "unauthenticated", 401)
    problem(refresh(client, grant.refresh_token), "token_invalid")
    event = next(e for e in audit_rows(services(app).engine) if e["event"] == "admin.user.status")
    assert json.loads(event["detail"])["token_sessions_ended"] == 1


def test_signing_out_everywhere_revokes_every_token_session(app: Flask) -> None:
    account = sign_up(app)
    first, second = start_tokens(app, account), start_tokens(app, account)
    client = api_client(app)
    assert call(client, "DELETE", "/api/v1/me/sessions", first).status_code == 204
    for grant in (first, second):
        problem(call(client, "GET", ME, grant), "unauthenticated", 401)
        problem(refresh(client, grant.refresh_token), "token_invalid")
    problem(account.browser.call("GET", ME), "unauthenticated", 401)  # the cookie session too


def test_deleting_the_current_session_ends_only_this_token_session(app: Flask) -> None:
    account = sign_up(app)
    mine, other = start_tokens(app, account), start_tokens(app, account)
    client = api_client(app)
    ended = call(client, "DELETE", "/api/v1/sessions/current", mine)
    assert ended.status_code == 204 and "Set-Cookie" not in ended.headers
    problem(call(client, "GET", ME, mine), "unauthenticated", 401)
    problem(refresh(client, mine.refresh_token), "token_invalid")
    assert call(client, "GET", ME, other).status_code == 200
    assert account.browser.call("GET", ME).status_code == 200
    event = audit_rows(services(app).engine)[-1]
    assert event["event"] == "session.sign_out"
    assert json.loads(event["detail"])["token_session"] == _claims(mine.access_token)["sid"]


def test_a_token_caller_needs_a_fresh_verification_for_step_up(app: Flask) -> None:
    account = sign_up(app)
    _second_passkey(account)
    grant = start_tokens(app, account, user_verified=False)
    path = f"/api/v1/me/credentials/{account.credential_pk}"
    problem(
        call(api_client(app), "PATCH", path, grant, json={"name": "x"}), "step_up_required", 401
    )


def test_the_admin_api_accepts_an_admins_token(app: Flask) -> None:
    signed_in_admin(app)  # another admin exists
    account = sign_up(app, "root2")
    promote_admin(services(app), "root2")
    grant = start_tokens(app, account)
    listed = call(api_client(app), "GET", "/api/v1/admin/users", grant)
    assert listed.status_code == 200, listed.json
    plain = start_tokens(app, sign_up(app, "bob"))
    problem(call(api_client(app), "GET", "/api/v1/admin/users", plain), "forbidden", 403)
