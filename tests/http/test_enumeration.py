"""No username enumeration at sign-in (WebAuthn L3 §14.6.2), through HTTP.

A username with no active passkey (unknown, or every passkey disabled) must get options
that cannot be told from a real user's: status, members and their types, descriptor
shapes, id lengths, transports, list length, stability across calls; a challenge really
stored; and a result that fails exactly as a wrong key does.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from authsvc import create_app
from authsvc.encoding import b64url_decode, b64url_encode
from authsvc.services.decoys import PROFILES
from authsvc.settings import Settings
from authsvc.storage import accounts
from authsvc.storage.db import transaction
from authsvc.storage.models import Credential, challenges
from tests.database import empty_tables
from tests.http.flows import Browser, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

TRANSPORTS = frozenset({"usb", "nfc", "ble", "smart-card", "hybrid", "internal"})
PROFILE_LENGTHS = frozenset(length for length, _ in PROFILES)


def _options(client: FlaskClient, username: str) -> dict[str, Any]:
    response = Browser(client).post("/assertion/options", {"username": username})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


def _allowed(options: dict[str, Any]) -> list[tuple[bytes, tuple[str, ...]]]:
    return [
        (b64url_decode(d["id"], field="id"), tuple(d.get("transports", ())))
        for d in options["allowCredentials"]
    ]


def _shape(options: dict[str, Any]) -> dict[str, str]:
    """The members of an answer and their JSON types (descriptors are checked apart: a real
    one, too, may lack ``transports``)."""
    return {key: type(value).__name__ for key, value in options.items()}


def _assert_plausible_descriptors(options: dict[str, Any]) -> None:
    assert 1 <= len(options["allowCredentials"]) <= 3
    for descriptor in options["allowCredentials"]:
        assert set(descriptor) <= {"type", "id", "transports"}
        assert descriptor["type"] == "public-key"
        assert 16 <= len(b64url_decode(descriptor["id"], field="id")) <= 1023
        assert set(descriptor.get("transports", ())) <= TRANSPORTS


def test_unknown_and_known_usernames_get_answers_of_one_shape(client: FlaskClient) -> None:
    assert Browser(client).register(SoftAuthenticator(), "ada").status_code == 200
    known, unknown = _options(client, "ada"), _options(client, "nobody")
    assert _shape(known) == _shape(unknown)
    for key in ("status", "errorMessage", "timeout", "rpId", "userVerification", "extensions"):
        assert known[key] == unknown[key], key
    assert len(known["challenge"]) == len(unknown["challenge"])
    _assert_plausible_descriptors(known)
    _assert_plausible_descriptors(unknown)
    for credential_id, transports in _allowed(unknown):
        assert (len(credential_id), transports) in PROFILES


def test_imaginary_credentials_are_stable_per_username_and_per_secret(
    app: Flask, settings: Settings
) -> None:
    first, second = app.test_client(), app.test_client()  # two cookie sessions
    nobody = _allowed(_options(first, "nobody"))
    assert _allowed(_options(first, "nobody")) == nobody
    assert _allowed(_options(second, "nobody")) == nobody
    assert _allowed(_options(first, "NoBody")) == nobody  # one canonical username
    assert _allowed(_options(first, "somebody-else")) != nobody
    other = create_app(settings.with_changes(secret_key="another-secret-key-0123456789"))
    try:
        assert _allowed(_options(other.test_client(), "nobody")) != nobody
    finally:
        services(other).engine.dispose()


def test_imaginary_list_lengths_and_ids_look_like_real_ones(client: FlaskClient) -> None:
    lengths: list[int] = []
    id_lengths: set[int] = set()
    for index in range(48):
        allowed = _allowed(_options(client, f"probe-{index}"))
        lengths.append(len(allowed))
        id_lengths.update(len(credential_id) for credential_id, _ in allowed)
    assert set(lengths) <= {1, 2, 3}
    assert len(set(lengths)) > 1  # a constant length would give it away (tests/unit: weights)
    assert id_lengths <= PROFILE_LENGTHS and len(id_lengths) > 2


def test_imaginary_options_store_a_challenge_the_result_consumes(app: Flask) -> None:
    """The result is refused for the credential, not for a missing challenge: it was stored;
    sent again it finds none: it was consumed."""
    browser, stranger = Browser(app.test_client()), SoftAuthenticator()
    assert browser.register(stranger, "bob").status_code == 200
    options = browser.assertion_options("nobody")
    body = stranger.get(options, origin=browser.origin, credential=stranger.credentials[0])
    problem(browser.post("/assertion/result", body), "credential_unknown")
    problem(browser.post("/assertion/result", body), "challenge_unknown")


def test_imaginary_and_wrong_credentials_fail_alike(app: Flask) -> None:
    ada, bob = Browser(app.test_client()), Browser(app.test_client())
    ada_key, bob_key = SoftAuthenticator(), SoftAuthenticator()
    assert ada.register(ada_key, "ada").status_code == 200
    assert bob.register(bob_key, "bob").status_code == 200
    attacker = Browser(app.test_client())
    bodies: list[dict[str, Any]] = []

    # 1. a real user's options, answered with another user's real credential (a wrong key)
    options = attacker.assertion_options("ada")
    body = bob_key.get(options, origin=attacker.origin, credential=bob_key.credentials[0])
    bodies.append(problem(attacker.post("/assertion/result", body), "credential_unknown"))
    # 2. an unknown user's options, answered with one of its imaginary credentials
    options = attacker.assertion_options("nobody")
    imaginary = options["allowCredentials"][0]["id"]
    body = bob_key.get(options, origin=attacker.origin, credential=bob_key.credentials[0])
    body = {**body, "id": imaginary, "rawId": imaginary}
    bodies.append(problem(attacker.post("/assertion/result", body), "credential_unknown"))
    # 3. an unknown user's options, answered with a real credential, validly signed, user
    #    handle and all: the imaginary state lets nothing through
    options = attacker.assertion_options("nobody")
    body = bob_key.get(options, origin=attacker.origin, credential=bob_key.credentials[0])
    bodies.append(problem(attacker.post("/assertion/result", body), "credential_unknown"))

    assert bodies[0] == bodies[1] == bodies[2]
    rows = audit_rows(services(app).engine)[-3:]
    assert [(r["event"], r["outcome"], r["code"]) for r in rows] == [
        ("authentication", "failure", "credential_unknown")
    ] * 3
    assert {r["user_id"] for r in rows[1:]} == {None}  # no user was named: none is recorded
    # bob's own sign-in still works: nothing above touched his credential
    assert bob.sign_in(bob_key, "bob").status_code == 200


def test_a_user_whose_only_passkey_is_disabled_looks_unknown(app: Flask) -> None:
    browser, auth = Browser(app.test_client()), SoftAuthenticator()
    assert browser.register(auth, "dora").status_code == 200
    engine = services(app).engine
    with transaction(engine) as conn:
        pk = conn.execute(select(Credential.id)).scalar_one()
        accounts.set_credential_status(conn, pk, "disabled")
    options = browser.assertion_options("dora")
    imaginary = services(app).decoys.for_username("dora")
    assert _allowed(options) == [(c.credential_id, c.transports) for c in imaginary]
    assert _allowed(_options(app.test_client(), "dora")) == _allowed(options)
    own = b64url_encode(auth.credentials[0].credential_id)
    assert own not in {d["id"] for d in options["allowCredentials"]}
    body = auth.get(options, origin=browser.origin, credential=auth.credentials[0])
    problem(browser.post("/assertion/result", body), "credential_unknown")


def test_a_disabled_account_looks_unknown(app: Flask) -> None:
    browser, auth = Browser(app.test_client()), SoftAuthenticator()
    assert browser.register(auth, "dora").status_code == 200
    with transaction(services(app).engine) as conn:
        conn.exec_driver_sql("UPDATE users SET status = 'disabled'")
    options = _options(app.test_client(), "dora")
    imaginary = services(app).decoys.for_username("dora")
    assert _allowed(options) == [(c.credential_id, c.transports) for c in imaginary]


def test_discoverable_sign_in_is_unchanged(client: FlaskClient) -> None:
    browser, auth = Browser(client), SoftAuthenticator()
    assert browser.register(auth, "ada").status_code == 200
    options = browser.assertion_options(None)
    assert options["allowCredentials"] == []
    assert browser.sign_in(auth, None).status_code == 200


def test_unknown_usernames_write_their_challenge_like_known_ones(settings: Settings) -> None:
    """On the SQL store, one challenge row per options call either way."""
    app = create_app(settings.with_changes(redis_url=None))
    engine = services(app).engine
    empty_tables(engine)
    try:
        assert Browser(app.test_client()).register(SoftAuthenticator(), "ada").status_code == 200
        _options(app.test_client(), "ada")
        _options(app.test_client(), "nobody")
        with engine.connect() as conn:
            rows: list[str] = list(conn.execute(select(challenges.c.data)).scalars())
        # the sign-up's challenge was consumed; the real user's state names them, the
        # imaginary one nobody
        assert sorted(json.loads(data)["user_id"] is None for data in rows) == [False, True]
    finally:
        engine.dispose()
