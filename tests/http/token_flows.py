"""Token sessions for the tests: a user with a passkey, a token session, and an app's DPoP key.

The user signs up through the cookie ceremonies (a real passkey, a real audit chain); the
token session is started by :func:`authsvc.services.tokens.issue_tokens` in an audited
transaction, as the ``/api/v1/sessions`` sign-in does. :class:`DpopKey` is the test's
client: a ``cryptography`` key pair and joserfc, as a real app would write its proofs.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import Connection
from werkzeug.test import TestResponse

from authsvc.services.audited import Subject, run_audited
from authsvc.services.operations import CLI
from authsvc.services.tokens import TokenGrant, issue_tokens
from authsvc.storage import repositories as repo
from authsvc.storage.db import transaction
from tests.conftest import ORIGIN
from tests.http.flows import Browser, services
from tests.softauthn import SoftAuthenticator

TOKEN_URL = ORIGIN + "/oauth/token"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Account:
    """A signed-up user and the passkey it registered."""

    browser: Browser
    auth: SoftAuthenticator
    user_id: int
    user_handle: bytes
    credential_pk: int
    credential_id: bytes


def sign_up(app: Flask, username: str = "ada") -> Account:
    browser = Browser(app.test_client())
    auth = SoftAuthenticator()
    assert browser.register(auth, username).status_code == 200
    with transaction(services(app).engine) as conn:
        user = repo.get_user_by_username(conn, username)
        assert user is not None
        cred = repo.list_credentials(conn, user.id)[0]
    return Account(browser, auth, user.id, user.user_handle, cred.id, cred.credential_id)


def start_tokens(
    app: Flask,
    account: Account,
    *,
    dpop: DpopKey | None = None,
    user_verified: bool = True,
    hardware_key: bool = False,
) -> TokenGrant:
    """A new token session for ``account``, as a sign-in over the API would start it."""

    def work(conn: Connection, subject: Subject) -> TokenGrant:
        subject.user_id = account.user_id
        return issue_tokens(
            services(app),
            conn,
            subject,
            user_id=account.user_id,
            user_handle=account.user_handle,
            credential_pk=account.credential_pk,
            credential_id=account.credential_id,
            user_verified=user_verified,
            hardware_key=hardware_key,
            app=None,
            dpop_jkt=None if dpop is None else dpop.jkt,
        )

    return run_audited(services(app), "test.sign_in", CLI, work)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class DpopKey:
    """An app's DPoP key pair, and the nonce the service last sent it."""

    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    nonce: str | None = None

    @property
    def key(self) -> ECKey:
        return ECKey.import_key(self.private)

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
        **claims: Any,
    ) -> str:
        payload: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(12),
            "htm": method,
            "htu": url,
            "iat": int(time.time() if iat is None else iat),
        }
        if nonce or self.nonce:
            payload["nonce"] = nonce or self.nonce
        if access_token is not None:
            payload["ath"] = b64url(hashlib.sha256(access_token.encode()).digest())
        payload.update(claims)
        public = self.key.as_dict(private=False)
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public}
        return jwt.encode(header, payload, self.key, algorithms=["ES256"])

    def remember(self, response: TestResponse) -> TestResponse:
        """Keep the ``DPoP-Nonce`` the service sent, as an app's DPoP library does."""
        self.nonce = response.headers.get("DPoP-Nonce") or self.nonce
        return response


def api_client(app: Flask) -> FlaskClient:
    """An app's HTTP client: no cookie jar."""
    return app.test_client(use_cookies=False)


def call(
    client: FlaskClient,
    method: str,
    path: str,
    grant: TokenGrant | str,
    *,
    dpop: DpopKey | None = None,
    scheme: str | None = None,
    proof: str | None = None,
    json: object | None = None,
) -> TestResponse:
    """A resource request with an access token (and a DPoP proof by ``dpop`` if given)."""
    token = grant if isinstance(grant, str) else grant.access_token
    kind = scheme or ("DPoP" if dpop is not None else "Bearer")
    headers = {"Authorization": f"{kind} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    elif dpop is not None:
        headers["DPoP"] = dpop.proof(method, ORIGIN + path, access_token=token)
    kwargs: dict[str, Any] = {"headers": headers}
    if json is not None:
        kwargs["json"] = json
    response = client.open(path, method=method, **kwargs)
    if dpop is not None:
        dpop.remember(response)
    return response


def refresh(
    client: FlaskClient,
    refresh_token: str,
    *,
    dpop: DpopKey | None = None,
    proof: str | None = None,
    path: str = "/oauth/token",
    **form: str,
) -> TestResponse:
    headers = {}
    if proof is not None:
        headers["DPoP"] = proof
    elif dpop is not None:
        headers["DPoP"] = dpop.proof("POST", ORIGIN + path)
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **form}
    response = client.post(path, data=data, headers=headers, content_type=FORM)
    if dpop is not None:
        dpop.remember(response)
    return response


def fresh_nonce(client: FlaskClient, dpop: DpopKey) -> None:
    """Fetch a nonce the way an app first learns one: any /api/v1 response carries it."""
    dpop.remember(client.get("/api/v1/me"))
