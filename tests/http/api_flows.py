"""Drive the ``/api/v1`` ceremonies the way a native app does: no cookies, a ceremonyId.

:class:`App` is an app's HTTP client (no cookie jar, no ``Origin`` header) with the origin
its platform puts in client data: the RP's web origin for an iOS app (and for a script),
``android:apk-key-hash:…`` for an Android app. With a :class:`DpopKey` it sends a DPoP
proof with each sign-in, and keeps the ``DPoP-Nonce`` the service answers with.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import ORIGIN
from tests.http.admin_flows import AdminBrowser
from tests.http.token_flows import DpopKey, api_client, b64url
from tests.softauthn import SoftAuthenticator, SoftCredential

REGISTRATION_OPTIONS = "/api/v1/registrations/options"
REGISTRATIONS = "/api/v1/registrations"
SIGN_IN_OPTIONS = "/api/v1/sessions/options"
SESSIONS = "/api/v1/sessions"


def android_origin(certificate_sha256: bytes) -> str:
    return "android:apk-key-hash:" + b64url(certificate_sha256)


def colon_hex(sha256: bytes) -> str:
    return ":".join(f"{b:02X}" for b in sha256)


def claims(access_token: str) -> dict[str, Any]:
    """An access token's payload, unverified (the tests of part B verify signatures)."""
    payload = access_token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def body(response: TestResponse) -> dict[str, Any]:
    found: dict[str, Any] = response.json  # type: ignore[assignment]
    return found


@dataclass
class App:
    """One installation of a native app talking to the service."""

    client: FlaskClient
    origin: str = ORIGIN
    client_id: str | None = None
    dpop: DpopKey | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, app: Flask, **kwargs: Any) -> App:
        return cls(api_client(app), **kwargs)

    def post(self, path: str, payload: object, *, proof: str | None = None) -> TestResponse:
        headers = dict(self.headers)
        if proof is not None:
            headers["DPoP"] = proof
        response = self.client.post(path, json=payload, headers=headers)
        if self.dpop is not None:
            self.dpop.remember(response)
        return response

    def _with_client(self, payload: dict[str, Any]) -> dict[str, Any]:
        return payload if self.client_id is None else {"clientId": self.client_id, **payload}

    def registration_options(self, token: str | None = None, **extra: Any) -> TestResponse:
        payload = self._with_client(dict(extra))
        if token is not None:
            payload["registrationToken"] = token
        return self.post(REGISTRATION_OPTIONS, payload)

    def begin_registration(
        self, token: str | None = None, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        response = self.registration_options(token, **extra)
        assert response.status_code == 200, response.get_data(as_text=True)
        found = body(response)
        assert set(found) == {"ceremonyId", "publicKey"}
        return found["ceremonyId"], found["publicKey"]

    def proof_for(self, path: str) -> str | None:
        return None if self.dpop is None else self.dpop.proof("POST", ORIGIN + path)

    def finish_registration(
        self, ceremony_id: str, credential: dict[str, Any], *, proof: str | None = None
    ) -> TestResponse:
        return self.post(
            REGISTRATIONS,
            {"ceremonyId": ceremony_id, "credential": credential},
            proof=proof or self.proof_for(REGISTRATIONS),
        )

    def register(
        self, auth: SoftAuthenticator, token: str | None = None, **overrides: Any
    ) -> TestResponse:
        ceremony_id, options = self.begin_registration(token)
        return self.finish_registration(
            ceremony_id, auth.create(options, origin=self.origin, **overrides)
        )

    def begin_sign_in(
        self, username: str | None = None, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        payload = self._with_client(dict(extra))
        if username is not None:
            payload["username"] = username
        response = self.post(SIGN_IN_OPTIONS, payload)
        assert response.status_code == 200, response.get_data(as_text=True)
        found = body(response)
        assert set(found) == {"ceremonyId", "publicKey"}
        return found["ceremonyId"], found["publicKey"]

    def finish_sign_in(
        self, ceremony_id: str, credential: dict[str, Any], *, proof: str | None = None
    ) -> TestResponse:
        return self.post(
            SESSIONS,
            {"ceremonyId": ceremony_id, "credential": credential},
            proof=proof or self.proof_for(SESSIONS),
        )

    def sign_in(
        self,
        auth: SoftAuthenticator,
        username: str | None = None,
        credential: SoftCredential | None = None,
        **overrides: Any,
    ) -> TestResponse:
        ceremony_id, options = self.begin_sign_in(username)
        asserted = auth.get(options, origin=self.origin, credential=credential, **overrides)
        return self.finish_sign_in(ceremony_id, asserted)


def issue_token(admin: AdminBrowser, username: str, display_name: str = "") -> str:
    """An admin's registration token for ``username`` (its account is made if new)."""
    payload: dict[str, str] = {"username": username}
    if display_name:
        payload["displayName"] = display_name
    response = admin.call("POST", "/registration-tokens", payload)
    assert response.status_code == 201, response.get_data(as_text=True)
    token: str = body(response)["registrationToken"]
    return token


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def certificate_sha256(label: str) -> bytes:
    """A stand-in for the SHA-256 of an app's signing certificate."""
    return hashlib.sha256(label.encode()).digest()
