"""Related origins (issue 10, item 4): ``/.well-known/webauthn`` and the ceremonies' list.

The service here is the RP ``example.com`` that lets two other sites use its passkeys. A
browser on a related origin sends that origin as ``Origin`` and in clientData, and the
RP ID hash of ``example.com``; the software authenticator does what the browser does once
its related-origin check passed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from authsvc import create_app
from authsvc.settings import Settings
from authsvc.web.guards import REFUSAL_DETAIL
from tests.database import empty_tables
from tests.http.flows import Browser, audit_rows, problem, services, stored_state
from tests.softauthn import SoftAuthenticator

RP_ID = "example.com"
OWN = "https://example.com"
RELATED = ("https://example.co.uk", "https://shop.example-brand.de")
UNLISTED = "https://example.org"


@pytest.fixture
def related_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings.with_changes(rp_id=RP_ID, origins=(OWN,), related_origins=RELATED))
    app.config["TESTING"] = True
    empty_tables(services(app).engine)
    yield app
    services(app).engine.dispose()


@pytest.fixture
def related(related_app: Flask) -> FlaskClient:
    return related_app.test_client()


def test_the_document_lists_the_related_origins(related: FlaskClient) -> None:
    response = related.get("/.well-known/webauthn")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"origins": list(RELATED)}
    # public and the same for everyone: cacheable, readable by the related sites' browsers
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # a shared cache must never keep someone's cookie with it
    assert "Set-Cookie" not in response.headers
    head = related.head("/.well-known/webauthn")
    assert head.status_code == 200
    assert head.headers["Cache-Control"] == "public, max-age=3600"
    # only the document is public: Flask's automatic OPTIONS answer is not
    assert related.options("/.well-known/webauthn").headers["Cache-Control"] == "no-store"


def test_no_document_without_related_origins(client: FlaskClient) -> None:
    response = client.get("/.well-known/webauthn")
    problem(response, "not_found", 404)
    assert response.headers["Cache-Control"] == "no-store"  # so enabling it shows at once


def test_other_responses_of_that_app_stay_no_store(related: FlaskClient) -> None:
    response = related.post("/assertion/options", json={}, headers={"Origin": OWN})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"


@pytest.mark.parametrize("origin", RELATED)
def test_registration_and_sign_in_from_a_related_origin(related_app: Flask, origin: str) -> None:
    browser, auth = Browser(related_app.test_client(), origin=origin), SoftAuthenticator()
    options = browser.registration_options("ada")
    assert options["rp"]["id"] == RP_ID  # explicit: the browser must not default to its host
    registered = browser.post("/attestation/result", auth.create(options, origin=origin))
    assert registered.status_code == 200, registered.json
    assert registered.json is not None
    assert registered.json["status"] == "ok"

    signed_in = browser.sign_in(auth, "ada")
    assert signed_in.status_code == 200, signed_in.json
    rows = audit_rows(services(related_app).engine)
    assert [r["origin"] for r in rows[-2:]] == [origin, origin]


def test_a_passkey_made_on_the_rp_signs_in_on_a_related_origin(related_app: Flask) -> None:
    auth = SoftAuthenticator()
    own = Browser(related_app.test_client(), origin=OWN)
    assert own.register(auth, "ada").status_code == 200
    elsewhere = Browser(related_app.test_client(), origin=RELATED[0])
    response = elsewhere.sign_in(auth, "ada")
    assert response.status_code == 200, response.json


def test_registration_from_an_unlisted_origin_is_refused(related_app: Flask) -> None:
    # no Origin header (a script, not a browser) passes the guard: the ceremony must refuse
    browser, auth = Browser(related_app.test_client(), origin=OWN), SoftAuthenticator()
    before = stored_state(services(related_app).engine)
    options = browser.registration_options("ada")
    body = auth.create(options, origin=UNLISTED)
    response = browser.client.post("/attestation/result", json=body)
    problem(response, "origin_mismatch")
    assert stored_state(services(related_app).engine) == before


def test_sign_in_from_an_unlisted_origin_is_refused(related_app: Flask) -> None:
    browser, auth = Browser(related_app.test_client(), origin=RELATED[0]), SoftAuthenticator()
    assert browser.register(auth, "ada").status_code == 200
    response = browser.sign_in(auth, "ada", origin_in_client_data=UNLISTED)
    problem(response, "origin_mismatch")
    assert audit_rows(services(related_app).engine)[-1]["code"] == "origin_mismatch"


def test_a_related_origin_is_not_an_allowed_top_origin(related_app: Flask) -> None:
    browser, auth = Browser(related_app.test_client(), origin=OWN), SoftAuthenticator()
    response = browser.register(auth, "ada", cross_origin=True, top_origin=RELATED[0])
    problem(response, "origin_mismatch")


def test_the_guard_still_refuses_a_related_site_calling_across_sites(related: FlaskClient) -> None:
    # what a page on example.co.uk calling example.com sends: it is another site
    headers = {"Origin": RELATED[0], "Sec-Fetch-Site": "cross-site"}
    response = related.post("/assertion/options", json={}, headers=headers)
    assert problem(response, "forbidden", 403)["detail"] == REFUSAL_DETAIL
    # this service answering on the related host: its own pages' calls are same-origin
    headers = {"Origin": RELATED[0], "Sec-Fetch-Site": "same-origin"}
    assert related.post("/assertion/options", json={}, headers=headers).status_code == 200
    headers = {"Origin": UNLISTED, "Sec-Fetch-Site": "same-origin"}
    response = related.post("/assertion/options", json={}, headers=headers)
    assert problem(response, "forbidden", 403)["detail"] == REFUSAL_DETAIL
