"""DPoP-bound token sessions over HTTP (RFC 9449): every way a proof is refused, and retries."""

from __future__ import annotations

import time

from flask import Flask
from flask.testing import FlaskClient

from authsvc.services.tokens import TokenGrant
from tests.conftest import ORIGIN
from tests.http.flows import advance_clock, problem
from tests.http.token_flows import (
    DpopKey,
    api_client,
    call,
    fresh_nonce,
    refresh,
    sign_up,
    start_tokens,
)

ME = "/api/v1/me"


def _bound(app: Flask) -> tuple[FlaskClient, DpopKey, TokenGrant]:
    client = api_client(app)
    key = DpopKey()
    fresh_nonce(client, key)
    grant = start_tokens(app, sign_up(app), dpop=key)
    return client, key, grant


def _resource_refusal(response: object, code: str, challenge: str) -> None:
    body = problem(response, code, 401)  # type: ignore[arg-type]
    assert body["code"] == code
    assert response.headers["WWW-Authenticate"].startswith(f'DPoP error="{challenge}"')  # type: ignore[attr-defined]


def test_a_bound_session_works_with_its_key(app: Flask) -> None:
    client, key, grant = _bound(app)
    assert grant.token_type == "DPoP"
    assert call(client, "GET", ME, grant, dpop=key).status_code == 200
    refreshed = refresh(client, grant.refresh_token, dpop=key)
    assert refreshed.status_code == 200, refreshed.json
    assert refreshed.json is not None and refreshed.json["token_type"] == "DPoP"
    assert call(client, "GET", ME, refreshed.json["access_token"], dpop=key).status_code == 200


def test_a_bound_token_without_a_proof_is_refused(app: Flask) -> None:
    client, _, grant = _bound(app)
    _resource_refusal(
        call(client, "GET", ME, grant, scheme="DPoP"), "dpop_invalid", "invalid_dpop_proof"
    )


def test_a_bound_token_sent_as_bearer_is_refused(app: Flask) -> None:
    client, key, grant = _bound(app)
    proof = key.proof("GET", ORIGIN + ME, access_token=grant.access_token)
    refused = call(client, "GET", ME, grant, scheme="Bearer", proof=proof)
    _resource_refusal(refused, "dpop_invalid", "invalid_dpop_proof")


def test_a_stolen_bound_token_is_useless_without_the_key(app: Flask) -> None:
    client, _, grant = _bound(app)
    thief = DpopKey()
    fresh_nonce(client, thief)
    _resource_refusal(
        call(client, "GET", ME, grant, dpop=thief), "dpop_invalid", "invalid_dpop_proof"
    )
    stolen_refresh = problem(refresh(client, grant.refresh_token, dpop=thief), "dpop_invalid")
    assert stolen_refresh["error"] == "invalid_dpop_proof"
    assert (
        problem(refresh(client, grant.refresh_token), "dpop_invalid")["error"]
        == "invalid_dpop_proof"
    )


def test_the_thiefs_attempts_do_not_spend_the_owners_refresh_token(app: Flask) -> None:
    client, key, grant = _bound(app)
    thief = DpopKey()
    fresh_nonce(client, thief)
    refresh(client, grant.refresh_token, dpop=thief)
    assert refresh(client, grant.refresh_token, dpop=key).status_code == 200


def test_a_replayed_proof_is_refused(app: Flask) -> None:
    client, key, grant = _bound(app)
    proof = key.proof("GET", ORIGIN + ME, access_token=grant.access_token)
    assert call(client, "GET", ME, grant, scheme="DPoP", proof=proof).status_code == 200
    replayed = call(client, "GET", ME, grant, scheme="DPoP", proof=proof)
    _resource_refusal(replayed, "dpop_invalid", "invalid_dpop_proof")


def test_a_mis_signed_proof_is_refused(app: Flask) -> None:
    client, key, grant = _bound(app)
    head, body, sig = key.proof("GET", ORIGIN + ME, access_token=grant.access_token).split(".")
    bad = f"{head}.{body}.{sig[:8]}{'A' if sig[8] != 'A' else 'B'}{sig[9:]}"
    _resource_refusal(
        call(client, "GET", ME, grant, scheme="DPoP", proof=bad),
        "dpop_invalid",
        "invalid_dpop_proof",
    )


def test_a_proof_for_another_method_or_url_is_refused(app: Flask) -> None:
    client, key, grant = _bound(app)
    for method, url in (
        ("POST", ORIGIN + ME),
        ("GET", ORIGIN + "/api/v1/me/credentials"),
        ("GET", "https://evil.example" + ME),
    ):
        proof = key.proof(method, url, access_token=grant.access_token)
        _resource_refusal(
            call(client, "GET", ME, grant, scheme="DPoP", proof=proof),
            "dpop_invalid",
            "invalid_dpop_proof",
        )


def test_a_stale_proof_is_refused(app: Flask) -> None:
    client, key, grant = _bound(app)
    proof = key.proof("GET", ORIGIN + ME, access_token=grant.access_token, iat=time.time() - 600)
    _resource_refusal(
        call(client, "GET", ME, grant, scheme="DPoP", proof=proof),
        "dpop_invalid",
        "invalid_dpop_proof",
    )


def test_a_missing_or_wrong_ath_is_refused(app: Flask) -> None:
    client, key, grant = _bound(app)
    for proof in (
        key.proof("GET", ORIGIN + ME),
        key.proof("GET", ORIGIN + ME, access_token="another token"),
    ):
        _resource_refusal(
            call(client, "GET", ME, grant, scheme="DPoP", proof=proof),
            "dpop_invalid",
            "invalid_dpop_proof",
        )


def test_a_missing_nonce_is_asked_for_and_the_retry_works(app: Flask) -> None:
    client, key, grant = _bound(app)
    key.nonce = None
    refused = call(client, "GET", ME, grant, dpop=key)
    _resource_refusal(refused, "dpop_nonce_required", "use_dpop_nonce")
    assert key.nonce == refused.headers["DPoP-Nonce"]  # the app keeps the one sent
    assert call(client, "GET", ME, grant, dpop=key).status_code == 200


def test_an_expired_nonce_at_the_token_endpoint_is_400_and_spends_nothing(app: Flask) -> None:
    client, key, grant = _bound(app)
    advance_clock(app, 2 * 300)  # two nonce steps later; the access token has expired too
    stale = refresh(
        client,
        grant.refresh_token,
        proof=key.proof("POST", ORIGIN + "/oauth/token", iat=time.time() + 600),
    )
    body = problem(stale, "dpop_nonce_required")
    assert body["error"] == "use_dpop_nonce"
    key.remember(stale)
    retried = refresh(
        client,
        grant.refresh_token,
        proof=key.proof("POST", ORIGIN + "/oauth/token", iat=time.time() + 600),
    )
    assert retried.status_code == 200, retried.json


def test_an_unbound_token_sent_as_dpop_is_refused(app: Flask) -> None:
    client = api_client(app)
    key = DpopKey()
    fresh_nonce(client, key)
    grant = start_tokens(app, sign_up(app))
    _resource_refusal(
        call(client, "GET", ME, grant, dpop=key), "dpop_invalid", "invalid_dpop_proof"
    )


def test_two_dpop_headers_are_refused(app: Flask) -> None:
    client, key, grant = _bound(app)
    proof = key.proof("GET", ORIGIN + ME, access_token=grant.access_token)
    refused = client.get(
        ME,
        headers=[("Authorization", f"DPoP {grant.access_token}"), ("DPoP", proof), ("DPoP", proof)],
    )
    _resource_refusal(refused, "dpop_invalid", "invalid_dpop_proof")
