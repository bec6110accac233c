"""Hostile input against every endpoint: 4xx problem+json, never a 500, nothing stored.

Each bad result is posted inside a session that has a live ceremony; afterwards the valid
result still succeeds, which proves the bad one neither consumed the challenge nor wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fido2 import cbor
from flask import Flask
from flask.testing import FlaskClient

from authsvc import create_app
from authsvc.encoding import b64url_decode, b64url_encode
from authsvc.settings import Settings
from tests.database import empty_tables
from tests.http.flows import Browser, audit_rows, challenge_rows, problem, services, stored_state
from tests.softauthn import SoftAuthenticator

ENDPOINTS = [
    "/attestation/options",
    "/attestation/result",
    "/assertion/options",
    "/assertion/result",
]

RAW_BODIES: list[tuple[str, bytes, str]] = [
    ("not-json", b"{not json", "application/json"),
    ("empty", b"", "application/json"),
    ("wrong-content-type", b'{"username": "ada"}', "text/plain"),
    ("form", b"username=ada", "application/x-www-form-urlencoded"),
    ("deeply-nested", b"[" * 30_000 + b"]" * 30_000, "application/json"),
    ("nested-objects", b'{"a":' * 40 + b"1" + b"}" * 40, "application/json"),
    ("array", b"[]", "application/json"),
    ("string", b'"ada"', "application/json"),
    ("nan", b'{"username": NaN}', "application/json"),
    ("duplicate-keys", b'{"username": "a", "username": "b"}', "application/json"),
    ("invalid-utf8", b'{"username": "\xff\xfe"}', "application/json"),
]


def _nothing_stored(app: Flask) -> tuple[Any, ...]:
    engine = services(app).engine
    return stored_state(engine), len(audit_rows(engine)), challenge_rows(engine)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("name", "raw", "content_type"), RAW_BODIES, ids=[b[0] for b in RAW_BODIES]
)
def test_unparsable_bodies(
    app: Flask, client: FlaskClient, endpoint: str, name: str, raw: bytes, content_type: str
) -> None:
    before = _nothing_stored(app)
    response = client.post(endpoint, data=raw, content_type=content_type)
    problem(response, "malformed")
    assert response.json is not None and response.json["status"] == "failed"
    assert _nothing_stored(app) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_body_over_the_size_limit(app: Flask, client: FlaskClient, endpoint: str) -> None:
    before = _nothing_stored(app)
    big = json.dumps({"username": "a" * (services(app).settings.max_body_bytes + 1)})
    problem(
        client.post(endpoint, data=big, content_type="application/json"), "payload_too_large", 413
    )
    assert _nothing_stored(app) == before


BAD_OPTIONS: list[dict[str, Any]] = [
    {},
    {"username": 5},
    {"username": ""},
    {"username": "a" * 65},
    {"username": "ada\x00"},
    {"username": "ada\u202e"},
    {"username": "\ud800"},
    {"username": " ada"},
    {"username": "ada", "displayName": ["x"]},
    {"username": "ada", "authenticatorSelection": "platform"},
    {"username": "ada", "authenticatorSelection": {"userVerification": "always"}},
    {"username": "ada", "authenticatorSelection": {"authenticatorAttachment": "usb"}},
    {"username": "ada", "authenticatorSelection": {"requireResidentKey": "yes"}},
    {"username": "ada", "attestation": "full"},
    {"username": "ada", "extensions": [1]},
    {"username": "ada", "extensions": {str(i): i for i in range(40)}},
]


@pytest.mark.parametrize("body", BAD_OPTIONS, ids=range(len(BAD_OPTIONS)))
def test_bad_registration_options(app: Flask, client: FlaskClient, body: dict[str, Any]) -> None:
    before = _nothing_stored(app)
    problem(client.post("/attestation/options", json=body), "malformed")
    assert _nothing_stored(app) == before


@pytest.mark.parametrize(
    "body",
    [
        {"username": 1},
        {"username": "x\x1b"},
        {"userVerification": "sometimes"},
        {"extensions": "x"},
    ],
)
def test_bad_assertion_options(app: Flask, client: FlaskClient, body: dict[str, Any]) -> None:
    before = _nothing_stored(app)
    problem(client.post("/assertion/options", json=body), "malformed")
    assert _nothing_stored(app) == before


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def mutate(body: dict[str, Any]) -> dict[str, Any]:
        body = json.loads(json.dumps(body))
        target = body
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value(target[keys[-1]]) if callable(value) else value
        return body

    return mutate


_DELETE = object()


def _b64_mutation(fn: Callable[[bytes], bytes]) -> Callable[[str], str]:
    return lambda value: b64url_encode(fn(b64url_decode(value, field="test")))


COMMON_RESULT_MUTATIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "id-differs": _set("id", b64url_encode(b"other")),
    "raw-id-missing": _set("rawId", _DELETE),
    "type-wrong": _set("type", "password"),
    "response-missing": _set("response", _DELETE),
    "response-not-object": _set("response", "x"),
    "bad-padding": _set("rawId", lambda v: v + "==="),
    "stray-characters": _set("rawId", lambda v: v[:4] + "+/" + v[4:]),
    "whitespace": _set("rawId", lambda v: v[:4] + " " + v[4:]),
    "client-data-not-json": _set("response.clientDataJSON", b64url_encode(b"\x00\x01")),
    "client-data-list": _set("response.clientDataJSON", b64url_encode(b"[1,2]")),
    "client-data-types": _set(
        "response.clientDataJSON", b64url_encode(b'{"type":1,"challenge":"x","origin":"y"}')
    ),
    "client-data-missing": _set("response.clientDataJSON", _DELETE),
}

REGISTRATION_MUTATIONS = {
    **COMMON_RESULT_MUTATIONS,
    "not-cbor": _set("response.attestationObject", b64url_encode(b"\xff\xfe\xfd")),
    "truncated-cbor": _set("response.attestationObject", _b64_mutation(lambda b: b[: len(b) // 2])),
    "trailing-bytes": _set("response.attestationObject", _b64_mutation(lambda b: b + b"\x00")),
    "deep-cbor": _set("response.attestationObject", b64url_encode(b"\x81" * 20_000 + b"\x00")),
    "cbor-not-map": _set("response.attestationObject", b64url_encode(cbor.encode([1, 2]))),
    "cbor-wrong-types": _set(
        "response.attestationObject",
        b64url_encode(cbor.encode({"fmt": 1, "attStmt": {}, "authData": b"x"})),
    ),
    "short-auth-data": _set(
        "response.attestationObject",
        b64url_encode(cbor.encode({"fmt": "none", "attStmt": {}, "authData": b"\x00" * 20})),
    ),
    "transports-wrong": _set("response.transports", "usb"),
    "attachment-wrong": _set("authenticatorAttachment", "pocket"),
}

ASSERTION_MUTATIONS = {
    **COMMON_RESULT_MUTATIONS,
    "short-auth-data": _set("response.authenticatorData", b64url_encode(b"\x00" * 36)),
    "auth-data-trailing": _set("response.authenticatorData", _b64_mutation(lambda b: b + b"\x01")),
    "signature-not-string": _set("response.signature", 7),
    "user-handle-too-long": _set("response.userHandle", b64url_encode(b"u" * 65)),
}


@pytest.mark.parametrize("mutation", sorted(REGISTRATION_MUTATIONS))
def test_bad_registration_results(app: Flask, client: FlaskClient, mutation: str) -> None:
    browser = Browser(client)
    body = SoftAuthenticator().create(browser.registration_options("ada"), origin=browser.origin)
    before = _nothing_stored(app)
    problem(
        browser.post("/attestation/result", REGISTRATION_MUTATIONS[mutation](body)), "malformed"
    )
    assert _nothing_stored(app) == before
    assert browser.post("/attestation/result", body).status_code == 200


@pytest.mark.parametrize("mutation", sorted(ASSERTION_MUTATIONS))
def test_bad_assertion_results(app: Flask, client: FlaskClient, mutation: str) -> None:
    browser = Browser(client)
    auth = SoftAuthenticator()
    browser.register(auth, "ada")
    body = auth.get(browser.assertion_options("ada"), origin=browser.origin)
    before = _nothing_stored(app)
    problem(browser.post("/assertion/result", ASSERTION_MUTATIONS[mutation](body)), "malformed")
    assert _nothing_stored(app) == before
    assert browser.post("/assertion/result", body).status_code == 200


@pytest.mark.parametrize("endpoint", ["/attestation/result", "/assertion/result"])
def test_result_without_options(app: Flask, client: FlaskClient, endpoint: str) -> None:
    other = Browser(app.test_client())
    auth = SoftAuthenticator()
    body = (
        auth.create(other.registration_options("ada"), origin=other.origin)
        if endpoint == "/attestation/result"
        else None
    )
    if body is None:
        other.register(auth, "ada")
        body = auth.get(other.assertion_options("ada"), origin=other.origin)
    before = _nothing_stored(app)
    problem(Browser(client).post(endpoint, body), "challenge_unknown")
    assert _nothing_stored(app) == before


def test_unknown_attestation_format_is_refused_without_storing(
    app: Flask, client: FlaskClient
) -> None:
    browser = Browser(client)
    body = SoftAuthenticator().create(browser.registration_options("ada"), origin=browser.origin)

    def swap_format(raw: bytes) -> bytes:
        decoded = cbor.decode(raw)
        assert isinstance(decoded, dict)
        obj = dict(decoded)
        obj["fmt"] = "made-up"
        return cbor.encode(obj)

    bad = _set("response.attestationObject", _b64_mutation(swap_format))(body)
    before = stored_state(services(app).engine)
    problem(browser.post("/attestation/result", bad), "attestation_invalid")
    assert stored_state(services(app).engine) == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_and_unknown_path(client: FlaskClient, method: str) -> None:
    problem(client.open("/attestation/options", method=method), "method_not_allowed", 405)
    problem(client.open("/no/such/thing", method=method), "not_found", 404)


@pytest.mark.parametrize(
    "cookie",
    [
        "",
        "x",
        "a.b.c",
        "a.1.\u00e9",
        "\u00e9.1.x",
        "a" * 5000,
        "e30.99999999999999999999.x",
        "e30.-1.x",
        "....",
    ],
)
@pytest.mark.filterwarnings("ignore:The 'session' cookie is too large")  # the point of one case
def test_hostile_session_cookies_start_an_empty_session(client: FlaskClient, cookie: str) -> None:
    """A cookie we did not sign (or cannot read) is no session: never a 500."""
    client.set_cookie("session", cookie, domain="localhost")
    response = client.post("/assertion/options", json={})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_oversized_origin_is_refused_and_forwarded_for_cut_for_the_audit_log(
    settings: Settings,
) -> None:
    app = create_app(settings.with_changes(trusted_proxies=1))
    empty_tables(services(app).engine)
    client = app.test_client()
    headers = {"Origin": "https://" + "o" * 5000, "X-Forwarded-For": "f" * 5000}
    response = client.post("/assertion/result", json={}, headers=headers)
    problem(response, "forbidden", 403)  # an Origin not in ORIGINS never reaches a use case
    headers = {"Origin": "http://localhost:5000", "X-Forwarded-For": "f" * 5000}
    response = client.post("/assertion/result", json={}, headers=headers)
    problem(response, "malformed")
    auth = SoftAuthenticator()
    Browser(client).register(auth, "ada")
    response = client.post("/assertion/options", json={"username": "ada"}, headers=headers)
    assert response.status_code == 200
    body = auth.get(response.json or {}, origin="http://localhost:5000")
    response = client.post("/assertion/result", json=body, headers=headers)
    assert response.status_code == 200
    last = audit_rows(services(app).engine)[-1]
    assert last["origin"] == "http://localhost:5000" and len(last["client_address"]) == 64
