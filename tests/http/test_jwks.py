"""The signing keys: published as a JWK Set, sealed at rest, rotated without breaking tokens."""

from __future__ import annotations

import base64
import json

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from authsvc import create_app
from authsvc.cli import main
from authsvc.services.operations import CLI
from authsvc.services.tokens import rotate_signing_keys
from authsvc.settings import Settings
from authsvc.storage.models import signing_keys
from tests.http.flows import advance_clock, audit_rows, problem, services
from tests.http.token_flows import api_client, call, sign_up, start_tokens

ME = "/api/v1/me"


def _kid(token: str) -> str:
    kid: str = json.loads(base64.urlsafe_b64decode(token.split(".", maxsplit=1)[0] + "=="))["kid"]
    return kid


def _published(app: Flask) -> list[str]:
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    return [k["kid"] for k in response.json["keys"]]  # type: ignore[index]


def test_the_jwks_publishes_the_public_key_that_signs(app: Flask) -> None:
    grant = start_tokens(app, sign_up(app))
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    (key,) = response.json["keys"]  # type: ignore[index]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert key["kid"] == _kid(grant.access_token)


def test_private_keys_are_sealed_at_rest(app: Flask) -> None:
    start_tokens(app, sign_up(app))
    with services(app).engine.connect() as conn:
        found: list[bytes] = list(conn.execute(select(signing_keys.c.sealed_private_key)).scalars())
    (sealed,) = found
    assert b"PRIVATE" not in sealed and b"\x30\x81\x87\x02\x01\x00" not in sealed  # no PKCS#8


def test_keys_sealed_under_another_secret_key_are_not_used(app: Flask, settings: Settings) -> None:
    account = sign_up(app)
    grant = start_tokens(app, account)
    other = create_app(settings.with_changes(secret_key="a-different-secret-0123456789"))
    assert _published(other) == []  # the stored key does not open: neither used nor shown
    problem(call(api_client(other), "GET", ME, grant), "unauthenticated", 401)
    fresh = start_tokens(other, account)  # a new key is made on first need
    assert _published(other) == [_kid(fresh.access_token)]
    _, _, dropped = rotate_signing_keys(services(other), CLI)
    assert dropped == [_kid(grant.access_token)]  # the next rotation drops the old one
    other.extensions["authsvc"].engine.dispose()


def test_rotation_keeps_the_old_key_until_its_tokens_expire(app: Flask) -> None:
    account = sign_up(app)
    before = start_tokens(app, account)
    old_kid = _kid(before.access_token)
    new_kid, retired, dropped = rotate_signing_keys(services(app), CLI)
    assert (retired, dropped) == ([old_kid], [])
    after = start_tokens(app, account)
    assert _kid(after.access_token) == new_kid != old_kid
    assert _published(app) == [new_kid, old_kid]
    client = api_client(app)
    assert call(client, "GET", ME, before).status_code == 200  # the old kid still verifies
    advance_clock(app, 301)
    assert _published(app) == [new_kid]  # no valid token can name it any more
    problem(call(client, "GET", ME, before), "unauthenticated", 401)
    _, _, dropped = rotate_signing_keys(services(app), CLI)
    assert dropped == [old_kid]
    event = audit_rows(services(app).engine)[-1]
    assert event["event"] == "keys.rotate" and json.loads(event["detail"])["dropped"] == [old_kid]


def test_another_instances_rotation_is_picked_up_by_kid(app: Flask, settings: Settings) -> None:
    account = sign_up(app)
    start_tokens(app, account)
    other = create_app(settings)  # a second instance on the same database
    rotate_signing_keys(other.extensions["authsvc"], CLI)
    minted = start_tokens(other, account)  # the other instance signs with the new key
    assert call(api_client(app), "GET", ME, minted).status_code == 200  # unknown kid: re-read
    other.extensions["authsvc"].engine.dispose()


def test_the_cli_rotates_and_says_what_it_did(settings: Settings, app: Flask) -> None:
    start_tokens(app, sign_up(app))
    env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "ORIGINS": "http://localhost:5000",
        "REDIS_URL": settings.redis_url or "",
    }
    result = CliRunner().invoke(main, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    assert "is active; retired" in result.output
    assert audit_rows(services(app).engine)[-1]["event"] == "keys.rotate"
