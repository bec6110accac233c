"""Hostile CBOR in every CBOR field, over HTTP: ``malformed``, and nothing written.

Each hostile response is otherwise valid: its packed self attestation or assertion signature
is made again over the changed bytes with the credential's own key, so the CBOR rules are all
that stand between it and success. Afterwards the untouched response still succeeds, which
proves the hostile one neither consumed the challenge nor wrote. The same rules let through
what real clients send: keys in any order, heads wider than they need be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from fido2 import cbor
from flask import Flask
from flask.testing import FlaskClient

from authsvc.ceremony.cbor_input import MAX_NESTING
from tests.http.flows import Browser, audit_rows, challenge_rows, problem, services, stored_state
from tests.softauthn import Attestation, Flag, SoftAuthenticator, SoftCredential, b64url
from tests.softauthn import b64url_decode as unb64
from tests.softauthn.keys import sha256
from tests.unit.ceremony.cbor_writing import cbor_map, entry, head, nested_maps

EXTENSIONS = {"credProtect": 1}


def _entries(value: Mapping[Any, Any]) -> list[tuple[bytes, bytes]]:
    return [entry(k, v) for k, v in value.items()]


def _deep_value(levels: int) -> tuple[bytes, bytes]:
    return cbor.encode("x"), nested_maps(levels)


@dataclass(frozen=True)
class Ceremony:
    """A valid response split where the hostile bytes go in, and a way to sign them again."""

    body: dict[str, Any]
    credential: SoftCredential
    prefix: bytes  # authenticator data before the COSE key (or, signing in, the extensions)
    key: Mapping[int, Any]

    def auth_data(self, key: bytes | None, extensions: bytes) -> bytes:
        ed = int(Flag.ED)
        flags = self.prefix[32] & ~ed | (ed if extensions else 0)
        prefix = self.prefix[:32] + bytes([flags]) + self.prefix[33:]
        return prefix + (b"" if key is None else key) + extensions

    def signature(self, auth_data: bytes) -> bytes:
        client_data = unb64(self.body["response"]["clientDataJSON"])
        return self.credential.sign(auth_data + sha256(client_data))

    def registration(
        self,
        *,
        key: bytes | None = None,
        extensions: bytes | None = None,
        tail: bytes = b"",
        statement: Callable[[dict[str, Any]], bytes] = cbor.encode,
        extra: tuple[tuple[bytes, bytes], ...] = (),
    ) -> bytes:
        """An attestation object: attStmt signed again, fields in canonical order unless told."""
        data = self.auth_data(
            cbor.encode(dict(self.key)) if key is None else key,
            cbor.encode(EXTENSIONS) if extensions is None else extensions,
        )
        stmt = statement({"alg": int(self.credential.alg), "sig": self.signature(data + tail)})
        return cbor_map(
            entry("fmt", "packed"),
            (cbor.encode("attStmt"), stmt),
            entry("authData", data + tail),
            *extra,
        )

    def assertion(self, extensions: bytes) -> dict[str, Any]:
        """The sign-in response with these extension bytes, signed again."""
        data = self.auth_data(None, extensions)
        response = {
            **self.body["response"],
            "authenticatorData": b64url(data),
            "signature": b64url(self.signature(data)),
        }
        return {**self.body, "response": response}

    def with_object(self, attestation_object: bytes) -> dict[str, Any]:
        response = {**self.body["response"], "attestationObject": b64url(attestation_object)}
        return {**self.body, "response": response}


def _registration(browser: Browser) -> Ceremony:
    auth = SoftAuthenticator(attestation=Attestation.PACKED_SELF)
    options = browser.registration_options("ada")
    body = auth.create(options, origin=browser.origin, authenticator_extensions=EXTENSIONS)
    cred = auth.credentials[-1]
    data = cbor.decode(unb64(body["response"]["attestationObject"]))
    assert isinstance(data, dict)
    tail = len(cbor.encode(cred.cose_key)) + len(cbor.encode(EXTENSIONS))
    return Ceremony(body, cred, data["authData"][:-tail], cred.cose_key)


def _sign_in(browser: Browser, username: str = "ada") -> Ceremony:
    auth = SoftAuthenticator()
    assert browser.register(auth, username).status_code == 200
    options = browser.assertion_options(username)
    body = auth.get(options, origin=browser.origin, authenticator_extensions=EXTENSIONS)
    data = unb64(body["response"]["authenticatorData"])
    cred = auth.credentials[-1]
    return Ceremony(body, cred, data[: -len(cbor.encode(EXTENSIONS))], cred.cose_key)


def _key_with(c: Ceremony, *extra: tuple[bytes, bytes]) -> bytes:
    return cbor_map(*_entries(c.key), *extra)


REGISTRATIONS: dict[str, Callable[[Ceremony], bytes]] = {
    "object-duplicate-key": lambda c: c.registration(extra=(entry("fmt", "packed"),)),
    "object-trailing-bytes": lambda c: c.registration() + b"\x00",
    "object-deep-nesting": lambda c: c.registration(extra=(_deep_value(MAX_NESTING),)),
    "att-stmt-duplicate-key": lambda c: c.registration(
        statement=lambda s: cbor_map(*_entries(s), entry("alg", s["alg"]))
    ),
    "att-stmt-deep-nesting": lambda c: c.registration(
        statement=lambda s: cbor_map(*_entries(s), _deep_value(MAX_NESTING - 1))
    ),
    "cose-key-duplicate-key": lambda c: c.registration(key=_key_with(c, entry(3, c.key[3]))),
    "cose-key-duplicate-written-two-ways": lambda c: c.registration(
        key=_key_with(c, (head(0, 3, 1), cbor.encode(c.key[3])))
    ),
    "cose-key-trailing-bytes": lambda c: c.registration(extensions=b"", tail=b"\x00"),
    "cose-key-truncated": lambda c: c.registration(
        key=cbor.encode(dict(c.key))[:-1], extensions=b""
    ),
    "cose-key-deep-nesting": lambda c: c.registration(key=_key_with(c, _deep_value(MAX_NESTING))),
    "cose-key-null-value": lambda c: c.registration(key=_key_with(c, (b"\x23", b"\xf6"))),
    "extensions-duplicate-key": lambda c: c.registration(
        extensions=cbor_map(*_entries(EXTENSIONS), *_entries(EXTENSIONS))
    ),
    "extensions-trailing-bytes": lambda c: c.registration(tail=b"\xa0"),
    "extensions-truncated": lambda c: c.registration(extensions=cbor.encode(EXTENSIONS)[:-1]),
    "extensions-400-byte-chain-of-maps": lambda c: c.registration(extensions=nested_maps(133)),
    "extensions-indefinite-map": lambda c: c.registration(extensions=b"\xbf\xff"),
}

SIGN_INS: dict[str, bytes] = {
    "extensions-duplicate-key": cbor_map(entry("credProtect", 1), entry("credProtect", 1)),
    "extensions-duplicate-written-two-ways": cbor_map(
        entry("credProtect", 1), (head(3, 11, 1) + b"credProtect", b"\x01")
    ),
    "extensions-trailing-bytes": cbor.encode(EXTENSIONS) + b"\x00",
    "extensions-truncated": cbor.encode(EXTENSIONS)[:-1],
    "extensions-400-byte-chain-of-maps": nested_maps(133),
    "extensions-one-level-too-deep": nested_maps(MAX_NESTING + 1),
    "extensions-not-a-map": cbor.encode([1]),
    "extensions-tag": cbor_map((cbor.encode("x"), b"\xc1\x00")),
    "extensions-float": cbor_map((cbor.encode("x"), b"\xf9\x3c\x00")),
}


def _nothing_stored(app: Flask) -> tuple[Any, ...]:
    engine = services(app).engine
    return stored_state(engine), len(audit_rows(engine)), challenge_rows(engine)


@pytest.mark.parametrize("case", sorted(REGISTRATIONS))
def test_hostile_cbor_in_a_registration_is_malformed(
    app: Flask, client: FlaskClient, case: str
) -> None:
    browser = Browser(client)
    ceremony = _registration(browser)
    before = _nothing_stored(app)
    hostile = ceremony.with_object(REGISTRATIONS[case](ceremony))
    problem(browser.post("/attestation/result", hostile), "malformed")
    assert _nothing_stored(app) == before
    assert browser.post("/attestation/result", ceremony.body).status_code == 200


@pytest.mark.parametrize("case", sorted(SIGN_INS))
def test_hostile_cbor_in_a_sign_in_is_malformed(app: Flask, client: FlaskClient, case: str) -> None:
    browser = Browser(client)
    ceremony = _sign_in(browser)
    before = _nothing_stored(app)
    problem(browser.post("/assertion/result", ceremony.assertion(SIGN_INS[case])), "malformed")
    assert _nothing_stored(app) == before
    assert browser.post("/assertion/result", ceremony.body).status_code == 200


def test_the_signed_again_responses_are_valid_when_the_cbor_is(app: Flask) -> None:
    """The hostile cases' control: the same re-signing with well-formed CBOR succeeds."""
    browser = Browser(app.test_client())
    ceremony = _registration(browser)
    response = browser.post("/attestation/result", ceremony.with_object(ceremony.registration()))
    assert response.status_code == 200, response.json
    browser = Browser(app.test_client())
    signing_in = _sign_in(browser, "bob")
    response = browser.post("/assertion/result", signing_in.assertion(cbor.encode(EXTENSIONS)))
    assert response.status_code == 200, response.json


def test_keys_out_of_canonical_order_are_accepted(app: Flask, client: FlaskClient) -> None:
    browser = Browser(client)
    ceremony = _registration(browser)
    canonical = unb64(ceremony.body["response"]["attestationObject"])
    obj = cbor.decode(canonical)
    assert isinstance(obj, dict)
    reordered = cbor_map(*(entry(k, obj[k]) for k in ("authData", "fmt", "attStmt")))
    assert reordered != canonical
    before = stored_state(services(app).engine)[1]
    response = browser.post("/attestation/result", ceremony.with_object(reordered))
    assert response.status_code == 200, response.json
    assert len(stored_state(services(app).engine)[1]) == len(before) + 1


def test_any_order_and_wide_heads_inside_authenticator_data_are_accepted(app: Flask) -> None:
    """Keys reversed and arguments wider than needed: the COSE key, extensions, attStmt."""
    browser = Browser(app.test_client())
    ceremony = _registration(browser)
    key = head(5, len(ceremony.key), 2) + b"".join(k + v for k, v in _entries(ceremony.key)[::-1])
    extensions = cbor_map((head(3, 11, 4) + b"credProtect", head(0, 1, 8)))
    obj = ceremony.registration(
        key=key,
        extensions=extensions,
        statement=lambda s: head(5, 2, 1) + b"".join(k + v for k, v in _entries(s)[::-1]),
    )
    response = browser.post("/attestation/result", ceremony.with_object(obj))
    assert response.status_code == 200, response.json
    browser = Browser(app.test_client())
    signing_in = _sign_in(browser, "bob")
    response = browser.post("/assertion/result", signing_in.assertion(extensions))
    assert response.status_code == 200, response.json
