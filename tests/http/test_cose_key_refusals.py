"""Credential public keys the service refuses at registration, over HTTP.

Each registration is a real one from the SoftAuthenticator ("none" attestation, so nothing
signs over the key) with only the COSE_Key in authenticator data replaced: a key of the
wrong curve or type for its algorithm, a point off the curve, an unknown curve or key
type, a short RSA modulus. Each is refused with its code and reason before anything is
stored, and the failure is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fido2 import cbor
from flask import Flask

from tests.http.flows import Browser, audit_rows, problem, services, stored_state
from tests.softauthn import Attestation, SoftAuthenticator, b64url
from tests.softauthn import b64url_decode as unb64

ES256, RS256 = -7, -257
P384 = ec.SECP384R1()


def _ec2(curve_label: int, key: ec.EllipticCurvePublicKey, alg: int = ES256) -> dict[int, Any]:
    numbers = key.public_numbers()
    size = (key.curve.key_size + 7) // 8
    return {
        1: 2,
        3: alg,
        -1: curve_label,
        -2: numbers.x.to_bytes(size, "big"),
        -3: numbers.y.to_bytes(size, "big"),
    }


def _p256() -> dict[int, Any]:
    return _ec2(1, ec.generate_private_key(ec.SECP256R1()).public_key())


def _off_the_curve() -> dict[int, Any]:
    key = _p256()
    return {**key, -3: bytes([key[-3][0] ^ 1]) + key[-3][1:]}


def _short_rsa() -> dict[int, Any]:
    # 1024 bits on purpose: the key the service must refuse
    numbers = rsa.generate_private_key(65537, 1024).public_key().public_numbers()  # noqa: S505
    return {1: 3, 3: RS256, -1: numbers.n.to_bytes(128, "big"), -2: b"\x01\x00\x01"}


def _ed25519_as_es256() -> dict[int, Any]:
    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    return {1: 1, 3: ES256, -1: 6, -2: raw}


NOT_AN_ES256_KEY = "credential public key is not a ES256 key"
NOT_A_VALID_ES256_KEY = "credential public key is not a valid ES256 key"
KEYS: dict[str, tuple[Callable[[], dict[int, Any]], str, str]] = {
    "es256-on-p384": (
        lambda: _ec2(2, ec.generate_private_key(P384).public_key()),
        "malformed",
        NOT_AN_ES256_KEY,
    ),
    "es256-as-an-ed25519-key": (_ed25519_as_es256, "malformed", NOT_AN_ES256_KEY),
    "point-off-the-curve": (_off_the_curve, "malformed", NOT_A_VALID_ES256_KEY),
    "unknown-curve": (lambda: {**_p256(), -1: 99}, "malformed", NOT_A_VALID_ES256_KEY),
    "coordinate-too-short": (
        lambda: {**_p256(), -2: _p256()[-2][1:]},
        "malformed",
        NOT_A_VALID_ES256_KEY,
    ),
    "unsupported-key-type": (lambda: {**_p256(), 1: 4}, "malformed", NOT_A_VALID_ES256_KEY),
    "rsa-1024": (_short_rsa, "malformed", "RSA key is shorter than 2048 bits"),
    "algorithm-never-offered": (
        lambda: {**_p256(), 3: -65535},
        "unsupported_algorithm",
        "algorithm -65535 was not offered",
    ),
}


def _with_key(body: dict[str, Any], cose_key: bytes, key: dict[int, Any]) -> dict[str, Any]:
    """The registration ``body`` with the COSE_Key at the end of its authData replaced."""
    attestation = cbor.decode(unb64(body["response"]["attestationObject"]))
    assert isinstance(attestation, dict)
    auth_data: bytes = attestation["authData"]
    assert auth_data.endswith(cose_key)  # no extensions: the key is authData's last field
    attestation["authData"] = auth_data[: -len(cose_key)] + cbor.encode(key)
    response = {**body["response"], "attestationObject": b64url(cbor.encode(attestation))}
    return {**body, "response": response}


@pytest.mark.parametrize("case", sorted(KEYS))
def test_a_refused_credential_key_stores_nothing(app: Flask, case: str) -> None:
    make_key, code, reason = KEYS[case]
    browser, auth = Browser(app.test_client()), SoftAuthenticator(attestation=Attestation.NONE)
    options = browser.registration_options("ada")
    body = auth.create(options, origin=browser.origin)
    cose_key = cbor.encode(dict(auth.credentials[-1].cose_key))
    before = stored_state(services(app).engine)

    refused = problem(
        browser.post("/attestation/result", _with_key(body, cose_key, make_key())), code
    )
    assert refused["detail"] == reason
    assert stored_state(services(app).engine) == before
    row = audit_rows(services(app).engine)[-1]
    assert (row["event"], row["outcome"], row["code"]) == ("registration", "failure", code)


def test_the_same_registration_with_its_own_key_is_accepted(app: Flask) -> None:
    """The replacement itself is sound: putting the authenticator's own key back succeeds."""
    browser, auth = Browser(app.test_client()), SoftAuthenticator(attestation=Attestation.NONE)
    body = auth.create(browser.registration_options("ada"), origin=browser.origin)
    cose_key = cbor.encode(dict(auth.credentials[-1].cose_key))
    own = dict(auth.credentials[-1].cose_key)
    response = browser.post("/attestation/result", _with_key(body, cose_key, own))
    assert response.status_code == 200, response.get_data(as_text=True)
    _, credentials = stored_state(services(app).engine)
    assert len(credentials) == 1
