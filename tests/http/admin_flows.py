"""An admin's session for the admin API tests: a passkey, the role, a fresh step-up."""

from __future__ import annotations

import dataclasses

from flask import Flask
from werkzeug.test import TestResponse

from authsvc.services.operations import promote_admin
from tests.http.flows import Browser, services
from tests.softauthn import SoftAuthenticator

ADMIN = "/api/v1/admin"


@dataclasses.dataclass
class AdminBrowser(Browser):
    """A browser signed in as an admin (with user verification: a fresh step-up)."""

    def call(self, method: str, path: str, body: object | None = None) -> TestResponse:
        """A request to the admin API: ``path`` is relative to ``/api/v1/admin``."""
        return super().call(method, ADMIN + path, body)


def signed_in_admin(app: Flask, username: str = "root") -> tuple[AdminBrowser, SoftAuthenticator]:
    browser = AdminBrowser(app.test_client())
    auth = SoftAuthenticator()
    assert browser.register(auth, username).status_code == 200
    promote_admin(services(app), username)
    assert (
        browser.sign_in(auth, username, options_body={"userVerification": "required"}).status_code
        == 200
    )
    return browser, auth
