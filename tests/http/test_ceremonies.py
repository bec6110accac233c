"""Whole ceremonies through HTTP with the software authenticator: the happy paths."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from authsvc import algorithms
from authsvc.encoding import b64url_encode
from tests.http.flows import Browser, audit_rows, problem, services, stored_state
from tests.softauthn import Alg, Attestation, ExcludedCredentialError, SoftAuthenticator, TestCA


def test_registration_options_have_the_conformance_shape(client: FlaskClient) -> None:
    options = Browser(client).registration_options("ada", attestation="direct")
    assert options["status"] == "ok" and options["errorMessage"] == ""
    assert options["rp"] == {"id": "localhost", "name": "authsvc tests"}
    assert options["user"]["name"] == "ada" and options["user"]["displayName"] == "ada"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == list(algorithms.DEFAULT)
    assert options["pubKeyCredParams"][0] == {"type": "public-key", "alg": -7}
    assert len(options["challenge"]) == 43  # 32 bytes, base64url without padding
    assert options["timeout"] == 300_000
    assert options["excludeCredentials"] == []
    assert options["attestation"] == "direct"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"


@pytest.mark.parametrize(
    ("alg", "attestation"),
    [
        (Alg.ES256, Attestation.NONE),
        (Alg.EdDSA, Attestation.PACKED_SELF),
        (Alg.RS256, Attestation.PACKED_SELF),
        (Alg.PS256, Attestation.PACKED_SELF),
        (Alg.ES256, Attestation.FIDO_U2F),
    ],
)
def test_register_then_sign_in(
    app: Flask, client: FlaskClient, alg: Alg, attestation: Attestation
) -> None:
    ca = TestCA.generate() if attestation is Attestation.FIDO_U2F else None
    auth = SoftAuthenticator(alg=alg, attestation=attestation, ca=ca)
    browser = Browser(client)
    assert browser.register(auth, "ada").json == {"status": "ok", "errorMessage": ""}
    response = browser.sign_in(auth, "ada")
    assert response.json == {"status": "ok", "errorMessage": ""}
    _, creds = stored_state(services(app).engine)
    assert len(creds) == 1
    events = [(e["event"], e["outcome"]) for e in audit_rows(services(app).engine)]
    assert events == [("registration", "success"), ("authentication", "success")]


def test_packed_attestation_from_a_trusted_ca_is_recorded_as_trusted(
    app: Flask, client: FlaskClient, tmp_path: object
) -> None:
    ca = TestCA.generate()
    from pathlib import Path  # noqa: PLC0415

    root = Path(str(tmp_path)) / "root.pem"
    root.write_text(ca.root_pem)
    from dataclasses import replace  # noqa: PLC0415

    from authsvc.trust.anchors import TrustAnchors  # noqa: PLC0415

    app.extensions["authsvc"] = replace(services(app), anchors=TrustAnchors.from_pem_files([root]))
    auth = SoftAuthenticator(attestation=Attestation.PACKED_CA, ca=ca)
    assert Browser(client).register(auth, "ada").status_code == 200
    row = audit_rows(services(app).engine)[-1]
    assert row["outcome"] == "success"
    assert json.loads(row["detail"])["trust"] == "trusted"


def test_discoverable_sign_in_signs_the_session_in(client: FlaskClient) -> None:
    auth = SoftAuthenticator()
    browser = Browser(client)
    browser.register(
        auth,
        "grace",
        options_body={
            "authenticatorSelection": {"residentKey": "required", "userVerification": "required"}
        },
    )
    options = browser.assertion_options()
    assert options["allowCredentials"] == [] and options["rpId"] == "localhost"
    response = browser.post("/assertion/result", auth.get(options, origin=browser.origin))
    assert response.status_code == 200, response.json
    with client.session_transaction() as session:
        assert session.get("_user_id") is not None


def test_second_credential_and_exclusion(app: Flask, client: FlaskClient) -> None:
    first, second = SoftAuthenticator(), SoftAuthenticator(alg=Alg.EdDSA)
    browser = Browser(client)
    assert browser.register(first, "lin").status_code == 200
    # a stranger's session cannot add a key to lin's account
    problem(
        Browser(app.test_client()).post(
            "/attestation/options", {"username": "lin", "displayName": "x"}
        ),
        "conflict",
        409,
    )
    assert browser.sign_in(first, "lin").status_code == 200
    options = browser.registration_options("lin")
    assert (
        options["excludeCredentials"]
        == [
            {
                "type": "public-key",
                "id": b64url_encode(first.credentials[0].credential_id),
                "transports": ["internal"],
            }
        ]
        or len(options["excludeCredentials"]) == 1
    )
    with pytest.raises(ExcludedCredentialError):
        first.create(options, origin=browser.origin)
    assert browser.register(second, "lin").status_code == 200
    allow = browser.assertion_options("lin")["allowCredentials"]
    assert len(allow) == 2
    assert browser.sign_in(second, "lin").status_code == 200
    _, creds = stored_state(services(app).engine)
    assert len(creds) == 2


def test_sign_count_and_last_use_are_updated(app: Flask, client: FlaskClient) -> None:
    auth = SoftAuthenticator(start_counter=10, counter_step=5)
    browser = Browser(client)
    browser.register(auth, "ada")
    browser.sign_in(auth, "ada")
    _, creds = stored_state(services(app).engine)
    from authsvc.storage.models import Credential  # noqa: PLC0415

    columns = [c.name for c in Credential.__table__.columns]
    row = dict(zip(columns, creds[0], strict=True))
    assert row["sign_count"] == auth.credentials[0].sign_count
    assert row["last_used_at"] is not None
