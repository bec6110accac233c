"""An Android app end to end: registered by its fingerprint, its apk-key-hash origin, tokens."""

from __future__ import annotations

import json

from flask import Flask

from tests.http.admin_flows import AdminBrowser, signed_in_admin
from tests.http.api_flows import (
    App,
    android_origin,
    body,
    certificate_sha256,
    claims,
    colon_hex,
    issue_token,
)
from tests.http.flows import Browser, audit_rows, problem, services
from tests.http.token_flows import refresh
from tests.softauthn import SoftAuthenticator

PACKAGE = "com.example.passkeys"
UPLOAD_KEY = certificate_sha256("upload key")
PLAY_KEY = certificate_sha256("play app signing key")


def _register_app(admin: AdminBrowser) -> int:
    added = admin.call(
        "POST",
        "/apps",
        {
            "platform": "android",
            "packageName": PACKAGE,
            "name": "Passkeys",
            "fingerprints": [colon_hex(UPLOAD_KEY), colon_hex(PLAY_KEY).lower()],
        },
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    assert body(added)["clientId"] == PACKAGE
    pk: int = body(added)["id"]
    return pk


def _signed_up(app: Flask) -> tuple[AdminBrowser, int, App, SoftAuthenticator]:
    admin, _ = signed_in_admin(app)
    pk = _register_app(admin)
    phone = App.of(app, origin=android_origin(PLAY_KEY), client_id=PACKAGE)
    auth = SoftAuthenticator(backup_eligible=True, backed_up=True)  # Google Password Manager
    response = phone.register(auth, issue_token(admin, "ada"))
    assert response.status_code == 201, response.get_data(as_text=True)
    return admin, pk, phone, auth


def test_an_android_app_signs_up_signs_in_and_refreshes(app: Flask) -> None:
    _, _, phone, auth = _signed_up(app)
    links = phone.client.get("/.well-known/assetlinks.json")
    assert colon_hex(PLAY_KEY) in json.dumps(links.json)

    registration = audit_rows(services(app).engine)[-1]
    assert registration["event"] == "registration"
    assert registration["origin"] == android_origin(PLAY_KEY)
    assert json.loads(registration["detail"])["app"] == PACKAGE

    signed_in = phone.sign_in(auth, "ada")
    assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
    grant = body(signed_in)
    assert grant["token_type"] == "Bearer"
    assert claims(grant["access_token"])["client_id"] == PACKAGE
    assert claims(grant["access_token"])["amr"] == ["swk", "user"]  # a synced passkey
    event = audit_rows(services(app).engine)[-1]
    assert (event["event"], event["origin"]) == ("authentication", android_origin(PLAY_KEY))
    assert json.loads(event["detail"])["app"] == PACKAGE

    refreshed = refresh(phone.client, grant["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_data(as_text=True)
    assert body(refreshed)["refresh_token"] != grant["refresh_token"]
    problem(refresh(phone.client, grant["refresh_token"]), "token_invalid")  # rotated


def test_the_upload_key_origin_is_accepted_too(app: Flask) -> None:
    _, _, _, auth = _signed_up(app)
    debug_build = App.of(app, origin=android_origin(UPLOAD_KEY), client_id=PACKAGE)
    assert debug_build.sign_in(auth, "ada").status_code == 200


def test_an_unknown_fingerprint_is_origin_mismatch(app: Flask) -> None:
    _, _, _, auth = _signed_up(app)
    for client_id in (None, PACKAGE):
        repackaged = App.of(
            app, origin=android_origin(certificate_sha256("someone else")), client_id=client_id
        )
        problem(repackaged.sign_in(auth, "ada"), "origin_mismatch")


def test_another_apps_client_id_is_origin_mismatch(app: Flask) -> None:
    admin, _, _, auth = _signed_up(app)
    other = admin.call(
        "POST",
        "/apps",
        {
            "platform": "android",
            "packageName": "com.example.other",
            "fingerprints": [colon_hex(certificate_sha256("other"))],
        },
    )
    assert other.status_code == 201
    posing = App.of(app, origin=android_origin(PLAY_KEY), client_id="com.example.other")
    problem(posing.sign_in(auth, "ada"), "origin_mismatch")


def test_a_removed_app_is_refused_at_once(app: Flask) -> None:
    admin, pk, phone, auth = _signed_up(app)
    grant = body(phone.sign_in(auth, "ada"))
    assert admin.call("DELETE", f"/apps/{pk}").status_code in {200, 204}
    problem(phone.sign_in(auth, "ada"), "origin_mismatch")
    problem(refresh(phone.client, grant["refresh_token"]), "token_invalid")


def test_the_cookie_endpoints_accept_a_registered_apps_origin(app: Flask) -> None:
    """The ceremony services are shared: the conformance endpoints take the app's origin."""
    _, _, _, auth = _signed_up(app)
    browser = Browser(app.test_client())
    options = browser.assertion_options("ada")
    asserted = auth.get(options, origin=android_origin(PLAY_KEY))
    assert browser.post("/assertion/result", asserted).status_code == 200
