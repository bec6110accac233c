"""One negative test per verification step of §7.1 and §7.2, through HTTP.

Each asserts the step's own code, that users and credentials are exactly as before, and
that the audit log recorded the failure with the same code (the only write a failed
ceremony makes besides consuming its challenge).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from fido2.webauthn import AuthenticatorData
from flask import Flask
from flask.testing import FlaskClient

from authsvc.encoding import b64url_encode
from authsvc.trust.anchors import TrustAnchors
from tests.http.flows import Browser, advance_clock, audit_rows, problem, services, stored_state
from tests.softauthn import Alg, Attestation, SoftAuthenticator, TestCA

FLAG = AuthenticatorData.FLAG

REGISTRATION_STEPS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("type_mismatch", {}, {"client_type": "webauthn.get"}),
    ("challenge_mismatch", {}, {"challenge": b"\x01" * 32}),
    ("origin_mismatch", {}, {"origin_in_client_data": "https://evil.example"}),
    ("origin_mismatch", {}, {"cross_origin": True, "top_origin": "https://evil.example"}),
    ("rp_id_mismatch", {}, {"rp_id": "evil.example"}),
    ("user_not_present", {}, {"flags_clear": FLAG.UP}),
    (
        "user_not_verified",
        {"authenticatorSelection": {"userVerification": "required"}},
        {"flags_clear": FLAG.UV},
    ),
    ("backup_state_invalid", {}, {"flags_set": FLAG.BS}),
    ("attestation_invalid", {}, {"attestation_signature_corrupt": True}),
    ("malformed", {}, {"credential_id": b"\x07" * 1024}),
]


@pytest.mark.parametrize(
    ("code", "options_body", "overrides"),
    REGISTRATION_STEPS,
    ids=[f"{s[0]}-{i}" for i, s in enumerate(REGISTRATION_STEPS)],
)
def test_registration_step_fails_with_its_code(
    app: Flask,
    client: FlaskClient,
    code: str,
    options_body: dict[str, Any],
    overrides: dict[str, Any],
) -> None:
    engine = services(app).engine
    before = stored_state(engine)
    auth = SoftAuthenticator(attestation=Attestation.PACKED_SELF)
    problem(Browser(client).register(auth, "ada", options_body, **overrides), code)
    assert stored_state(engine) == before
    last = audit_rows(engine)[-1]
    assert (last["event"], last["outcome"], last["code"]) == ("registration", "failure", code)


def test_untrusted_attestation_is_refused_when_trust_is_required(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    trusted, other = TestCA.generate(), TestCA.generate()
    root = tmp_path / "root.pem"
    root.write_text(trusted.root_pem)
    svc = services(app)
    app.extensions["authsvc"] = dataclasses.replace(
        svc,
        anchors=TrustAnchors.from_pem_files([root]),
        settings=svc.settings.with_changes(require_trusted_attestation=True),
    )
    before = stored_state(svc.engine)
    untrusted = SoftAuthenticator(attestation=Attestation.PACKED_CA, ca=other)
    problem(Browser(client).register(untrusted, "ada"), "attestation_untrusted")
    self_attested = SoftAuthenticator(attestation=Attestation.PACKED_SELF)
    problem(Browser(client).register(self_attested, "ada"), "attestation_untrusted")
    assert stored_state(svc.engine) == before
    good = SoftAuthenticator(attestation=Attestation.PACKED_CA, ca=trusted)
    assert Browser(client).register(good, "ada").status_code == 200


def test_registration_challenge_expires(app: Flask, client: FlaskClient) -> None:
    browser = Browser(client)
    options = browser.registration_options("ada")
    advance_clock(app, services(app).settings.challenge_ttl + 1)
    response = browser.post(
        "/attestation/result", SoftAuthenticator().create(options, origin=browser.origin)
    )
    problem(response, "challenge_expired")
    assert stored_state(services(app).engine) == ([], [])


def test_registration_replay_and_missing_options(app: Flask, client: FlaskClient) -> None:
    browser = Browser(client)
    auth = SoftAuthenticator()
    options = browser.registration_options("ada")
    body = auth.create(options, origin=browser.origin)
    assert browser.post("/attestation/result", body).status_code == 200
    problem(browser.post("/attestation/result", body), "challenge_unknown")
    problem(Browser(app.test_client()).post("/attestation/result", body), "challenge_unknown")


def test_duplicate_credential_is_excluded(app: Flask, client: FlaskClient) -> None:
    auth = SoftAuthenticator()
    first, second = Browser(client), Browser(app.test_client())
    body_for_bob = auth.create(second.registration_options("bob"), origin=second.origin)
    options = first.registration_options("ada")
    body = auth.create(
        options, origin=first.origin, credential_id=auth.credentials[0].credential_id
    )
    assert second.post("/attestation/result", body_for_bob).status_code == 200
    before = stored_state(services(app).engine)
    problem(first.post("/attestation/result", body), "credential_excluded")
    assert stored_state(services(app).engine) == before  # "ada" was not created either


def _registered(client: FlaskClient, **kwargs: Any) -> tuple[Browser, SoftAuthenticator]:
    auth = SoftAuthenticator(**kwargs)
    browser = Browser(client)
    assert browser.register(auth, "ada").status_code == 200
    return browser, auth


AUTHENTICATION_STEPS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("type_mismatch", {}, {"client_type": "webauthn.create"}),
    ("challenge_mismatch", {}, {"challenge": b"\x02" * 32}),
    ("origin_mismatch", {}, {"origin_in_client_data": "http://localhost:5001"}),
    ("origin_mismatch", {}, {"cross_origin": True, "top_origin": "https://evil.example"}),
    ("rp_id_mismatch", {}, {"rp_id": "example.com"}),
    ("user_not_present", {}, {"flags_clear": FLAG.UP}),
    ("user_not_verified", {"userVerification": "required"}, {"flags_clear": FLAG.UV}),
    ("backup_state_invalid", {}, {"flags_set": FLAG.BS}),
    ("backup_state_invalid", {}, {"flags_set": FLAG.BE | FLAG.BS}),
    ("signature_invalid", {}, {"corrupt_signature": True}),
    ("sign_count_regressed", {}, {"counter": 1}),
    ("user_handle_mismatch", {}, {"user_handle": b"\x09" * 32}),
]


@pytest.mark.parametrize(
    ("code", "options_body", "overrides"),
    AUTHENTICATION_STEPS,
    ids=[f"{s[0]}-{i}" for i, s in enumerate(AUTHENTICATION_STEPS)],
)
def test_authentication_step_fails_with_its_code(
    app: Flask,
    client: FlaskClient,
    code: str,
    options_body: dict[str, Any],
    overrides: dict[str, Any],
) -> None:
    browser, auth = _registered(client, start_counter=5)
    engine = services(app).engine
    before = stored_state(engine)
    problem(browser.sign_in(auth, "ada", options_body=options_body, **overrides), code)
    assert stored_state(engine) == before
    last = audit_rows(engine)[-1]
    assert (last["event"], last["outcome"], last["code"]) == ("authentication", "failure", code)


def test_unknown_credential_and_credential_of_another_user(app: Flask, client: FlaskClient) -> None:
    browser, _ = _registered(client)
    stranger = SoftAuthenticator()
    other = Browser(app.test_client())
    assert other.register(stranger, "bob").status_code == 200
    # bob's credential offered in ada's username-first sign-in
    options = browser.assertion_options("ada")
    body = stranger.get({**options, "allowCredentials": []}, origin=browser.origin)
    problem(browser.post("/assertion/result", body), "credential_unknown")
    # a credential the service never saw (id and rawId are not signed, so change both)
    auth_body = stranger.get(other.assertion_options("bob"), origin=other.origin)
    unknown = b64url_encode(b"\x05" * 16)
    body = {**auth_body, "id": unknown, "rawId": unknown}
    problem(other.post("/assertion/result", body), "credential_unknown")


def test_discoverable_sign_in_requires_the_user_handle(app: Flask, client: FlaskClient) -> None:
    browser, auth = _registered(client)
    problem(browser.sign_in(auth, None, user_handle=None), "user_handle_mismatch")


def test_authentication_challenge_expires_and_is_single_use(
    app: Flask, client: FlaskClient
) -> None:
    browser, auth = _registered(client)
    options = browser.assertion_options("ada")
    body = auth.get(options, origin=browser.origin)
    svc = services(app)
    advance_clock(app, svc.settings.challenge_ttl + 1)
    problem(browser.post("/assertion/result", body), "challenge_expired")
    app.extensions["authsvc"] = svc
    problem(browser.post("/assertion/result", body), "challenge_unknown")


def test_unsupported_algorithm_is_refused_before_storing(client: FlaskClient) -> None:
    # The service offers every algorithm it can verify, so the only way to answer with one
    # it did not offer is a key type it does not know: ES384 (-35).
    browser = Browser(client)
    options = browser.registration_options("ada")
    options["pubKeyCredParams"] = [{"type": "public-key", "alg": Alg.ES256}]
    body = SoftAuthenticator(alg=Alg.ES256).create(options, origin=browser.origin, alg_id=-35)
    problem(browser.post("/attestation/result", body), "unsupported_algorithm")
