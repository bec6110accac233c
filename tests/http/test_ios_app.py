"""An iOS app end to end: the RP's web origin, the app in the AASA file, DPoP-bound tokens."""

from __future__ import annotations

import json

from flask import Flask

from tests.conftest import ORIGIN
from tests.http.admin_flows import signed_in_admin
from tests.http.api_flows import REGISTRATIONS, App, basic, body, claims
from tests.http.flows import audit_rows, challenge_rows, problem, services
from tests.http.token_flows import DpopKey, call, fresh_nonce, refresh
from tests.softauthn import SoftAuthenticator

APP_ID = "ABCDE12345.com.example.passkeys"


def _registered_app(app: Flask) -> str:
    """Register the iOS app; return its back end's client secret."""
    admin, _ = signed_in_admin(app)
    added = admin.call("POST", "/apps", {"platform": "ios", "appId": APP_ID, "name": "Passkeys"})
    assert added.status_code == 201, added.get_data(as_text=True)
    secret: str = body(added)["clientSecret"]
    return secret


def _backend_token(app: Flask, secret: str, username: str = "ada") -> str:
    issued = App.of(app).client.post(
        "/api/v1/registration-tokens",
        json={"username": username, "displayName": "Ada"},
        headers=basic(APP_ID, secret),
    )
    assert issued.status_code == 201, issued.get_data(as_text=True)
    token: str = body(issued)["registrationToken"]
    return token


def test_the_app_is_in_the_association_file(app: Flask) -> None:
    _registered_app(app)
    aasa = App.of(app).client.get("/.well-known/apple-app-site-association")
    assert aasa.status_code == 200
    assert aasa.json["webcredentials"]["apps"] == [APP_ID]  # type: ignore[index]


def test_an_ios_app_signs_up_with_dpop_after_a_nonce_retry(app: Flask) -> None:
    secret = _registered_app(app)
    key = DpopKey()
    phone = App.of(app, client_id=APP_ID, dpop=key)
    ceremony, options = phone.begin_registration(_backend_token(app, secret))
    created = SoftAuthenticator(uv=True).create(options, origin=ORIGIN)
    key.nonce = None  # an app's first proof: it has not learnt a nonce yet
    first = phone.finish_registration(
        ceremony, created, proof=key.proof("POST", ORIGIN + REGISTRATIONS)
    )
    problem(first, "dpop_nonce_required")
    assert key.nonce is not None  # the refusal carried the nonce to retry with
    first = phone.finish_registration(ceremony, created)  # the same ceremony still works
    assert first.status_code == 201, first.get_data(as_text=True)
    grant = body(first)
    assert grant["token_type"] == "DPoP"
    assert claims(grant["access_token"])["cnf"] == {"jkt": key.jkt}
    assert claims(grant["access_token"])["client_id"] == APP_ID
    event = audit_rows(services(app).engine)[-1]
    assert (event["event"], event["origin"]) == ("registration", ORIGIN)
    assert json.loads(event["detail"])["app"] == APP_ID


def test_an_ios_app_signs_in_with_dpop_and_refreshes_with_a_proof(app: Flask) -> None:
    secret = _registered_app(app)
    auth = SoftAuthenticator()
    assert (
        App.of(app, client_id=APP_ID).register(auth, _backend_token(app, secret)).status_code == 201
    )
    key = DpopKey()
    phone = App.of(app, client_id=APP_ID, dpop=key)
    fresh_nonce(phone.client, key)
    response = phone.sign_in(auth, "ada")
    assert response.status_code == 200, response.get_data(as_text=True)
    grant = body(response)
    assert grant["token_type"] == "DPoP"
    assert claims(grant["access_token"])["cnf"] == {"jkt": key.jkt}

    me = call(phone.client, "GET", "/api/v1/me", grant["access_token"], dpop=key)
    assert me.status_code == 200, me.get_data(as_text=True)
    stolen = call(phone.client, "GET", "/api/v1/me", grant["access_token"], scheme="Bearer")
    assert stolen.status_code == 401
    thief = DpopKey(nonce=key.nonce)
    assert (
        call(phone.client, "GET", "/api/v1/me", grant["access_token"], dpop=thief).status_code
        == 401
    )

    problem(refresh(phone.client, grant["refresh_token"]), "dpop_invalid")
    refreshed = refresh(phone.client, grant["refresh_token"], dpop=key)
    assert refreshed.status_code == 200, refreshed.get_data(as_text=True)
    assert body(refreshed)["token_type"] == "DPoP"


def test_a_bad_dpop_proof_leaves_the_ceremony_unspent(app: Flask) -> None:
    secret = _registered_app(app)
    phone = App.of(app, client_id=APP_ID)
    auth = SoftAuthenticator()
    assert phone.register(auth, _backend_token(app, secret)).status_code == 201
    ceremony, options = phone.begin_sign_in("ada")
    asserted = auth.get(options, origin=ORIGIN)
    pending = challenge_rows(services(app).engine)
    key = DpopKey()
    fresh_nonce(phone.client, key)
    wrong_url = key.proof("POST", ORIGIN + "/api/v1/elsewhere")
    problem(phone.finish_sign_in(ceremony, asserted, proof=wrong_url), "dpop_invalid")
    assert challenge_rows(services(app).engine) == pending
    assert phone.finish_sign_in(ceremony, asserted).status_code == 200  # no proof: Bearer


def test_an_ios_client_id_with_an_android_origin_is_refused(app: Flask) -> None:
    secret = _registered_app(app)
    phone = App.of(app, client_id=APP_ID)
    auth = SoftAuthenticator()
    assert phone.register(auth, _backend_token(app, secret)).status_code == 201
    ceremony, options = phone.begin_sign_in("ada")
    asserted = auth.get(options, origin="android:apk-key-hash:" + "A" * 43)
    problem(phone.finish_sign_in(ceremony, asserted), "origin_mismatch")
