"""The signed session cookie, without the costs Flask's default adds for generality.

Flask's cookie session tags every value for round-tripping arbitrary types, tries zlib on
every save and re-derives its HMAC key on every signature; together that was a quarter of a
whole sign-in. Our session holds only strings and a few flags, so it is plain compact JSON,
signed (HMAC-SHA256 with a key derived once) and timestamped by itsdangerous, which also
enforces the session lifetime.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer


class _CompactJSON:
    @staticmethod
    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    @staticmethod
    def loads(value: str | bytes) -> Any:
        return json.loads(value)


class SignedCookieSessions(SessionInterface):
    """Sessions in a signed, timestamped cookie; tampered or expired ones start empty."""

    salt = "authsvc-session"

    def __init__(self) -> None:
        self._serializer: URLSafeTimedSerializer | None = None

    def _signer(self, app: Flask) -> URLSafeTimedSerializer:
        if self._serializer is None:
            key = hmac.new(app.secret_key.encode(), self.salt.encode(), hashlib.sha256).digest()  # type: ignore[union-attr]
            self._serializer = URLSafeTimedSerializer(
                key,
                serializer=_CompactJSON,
                signer_kwargs={"key_derivation": "none", "digest_method": hashlib.sha256},
            )
        return self._serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession:
        raw = request.cookies.get(self.get_cookie_name(app))
        if not raw:
            return SecureCookieSession()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = self._signer(app).loads(raw, max_age=max_age)
        except BadSignature:
            return SecureCookieSession()
        return SecureCookieSession(data if isinstance(data, dict) else {})

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        if not session:
            if getattr(session, "modified", True):
                response.delete_cookie(name, domain=domain, path=path)
            return
        if not self.should_set_cookie(app, session):
            return
        response.set_cookie(
            name,
            self._signer(app).dumps(dict(session)),
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")
