"""Web sessions: the signed cookie that binds ceremonies, and flask-login's signed-in user.

The cookie holds a random ``binding`` id that ceremony state is tied to, the pending
ceremony ids, flask-login's user id, and ``uv_at``: when this session last signed in with
user verification, which is what a step-up is checked against. It is rotated at sign-in so
that a binding id planted before sign-in (session fixation) is worthless afterwards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import Flask, current_app, request, session
from flask_login import LoginManager, UserMixin, login_user

from authsvc.services.context import Caller, Services
from authsvc.storage import repositories as repo
from authsvc.storage.db import transaction
from authsvc.web.cookies import SignedCookieSessions

_BINDING = "b"
_VERIFIED_AT = "uv_at"
_MAX_ORIGIN_CHARS = 255  # the audit columns' widths: headers are attacker-controlled
_MAX_ADDRESS_CHARS = 64


@dataclass(frozen=True)
class SessionUser(UserMixin):  # type: ignore[misc]
    """The signed-in user as flask-login sees it."""

    id: int
    username: str
    role: str = "user"

    def get_id(self) -> str:
        return str(self.id)


def services() -> Services:
    svc: Services = current_app.extensions["authsvc"]
    return svc


def caller() -> Caller:
    """The binding id of this cookie session (made on first use) and where the call came from."""
    binding = session.get(_BINDING)
    if not isinstance(binding, str):
        binding = secrets.token_urlsafe(18)
        session[_BINDING] = binding
    origin = request.headers.get("Origin")
    address = request.remote_addr  # behind TRUSTED_PROXIES, taken from X-Forwarded-For
    return Caller(
        binding=binding,
        client_address=address[:_MAX_ADDRESS_CHARS] if address else None,
        origin=origin[:_MAX_ORIGIN_CHARS] if origin else None,
    )


def remember_ceremony(kind: str, ceremony_id: str) -> None:
    session[kind] = ceremony_id


def take_ceremony(kind: str) -> str | None:
    """The pending ceremony id of this kind, removed from the session (single use)."""
    value = session.pop(kind, None)
    return value if isinstance(value, str) else None


def sign_in(user_id: int, username: str, *, user_verified: bool) -> None:
    """Sign the cookie session in as a user the ceremony just verified (no query needed)."""
    session.clear()
    session[_BINDING] = secrets.token_urlsafe(18)
    if user_verified:
        session[_VERIFIED_AT] = services().clock()
    login_user(SessionUser(user_id, username))


def verified_at() -> float | None:
    """When this session last signed in with user verification (epoch seconds), if ever."""
    value = session.get(_VERIFIED_AT)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _load_user(user_id: str) -> SessionUser | None:
    if not user_id.isdigit():
        return None
    with transaction(services().engine) as conn:
        user = repo.get_user(conn, int(user_id))
    return SessionUser(user.id, user.username, user.role) if user else None


def _refresh_metadata() -> None:
    services().metadata.maybe_refresh()


def init(app: Flask) -> None:
    app.before_request(_refresh_metadata)
    app.session_interface = SignedCookieSessions(
        app.config["SECRET_KEY"], int(app.permanent_session_lifetime.total_seconds())
    )
    manager = LoginManager()
    manager.session_protection = None  # the cookie is bound by its signature, not by IP/UA
    manager.user_loader(_load_user)
    manager.init_app(app)
