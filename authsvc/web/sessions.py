"""Web sessions at the HTTP edge: the cookie that holds an opaque id, and flask-login's user.

The cookie (``__Host-session`` with secure cookies, else ``session``; HttpOnly,
SameSite=Lax, Path=/) holds nothing but a random id. Everything else lives server-side
(:mod:`authsvc.services.sessions`): the id's SHA-256 is both the key of a signed-in
session's record and, for a visitor who has not signed in, the binding of their pending
ceremonies, so a visitor costs no stored row.

Flask's ``session`` object here only carries that id between the request and the response;
its contents are never stored anywhere. flask-login's ``_user_id`` in it is the session's
binding (the record names the user), so its ``user_loader`` reads the record, lazily, on the
first use of ``current_user``. ``session_protection`` stays off: the record is bound
server-side, and an IP or User-Agent hash would only sign out mobile users.

A request that presents an access token (:mod:`authsvc.web.tokens`) is signed in by it,
through flask-login's ``request_loader``: its cookie is ignored, none is ever set on its
response, and its caller is its token session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, current_app, request, session
from flask.sessions import SessionInterface, SessionMixin
from flask_login import LoginManager, UserMixin, current_user, logout_user
from typing_extensions import override

from authsvc.ceremony.state import CeremonyKind, ceremony_id
from authsvc.errors import Unauthenticated
from authsvc.services import sessions as server_sessions
from authsvc.services.admin import Actor
from authsvc.services.context import Caller, Services
from authsvc.services.records import SessionRecord
from authsvc.services.sessions import CurrentSession, OpenedSession
from authsvc.web import tokens

_MAX_ORIGIN_CHARS = 255  # the audit columns' widths: headers are attacker-controlled
_MAX_ADDRESS_CHARS = 64
_USER_ID = "_user_id"  # where flask-login looks for what its user_loader is given


@dataclass(frozen=True)
class SessionUser(UserMixin):  # type: ignore[misc]
    """The signed-in user as flask-login sees it, with the session record behind it."""

    id: int
    username: str
    display_name: str
    role: str
    record: SessionRecord

    def get_id(self) -> str:
        return str(self.id)


class WebSession(dict[str, Any], SessionMixin):
    """The request's view of its cookie: the opaque id, and what the response must do."""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token
        self.issue = False  # set the cookie (a new anonymous id, or a rotation)
        self.drop = False  # delete the cookie (signed out)
        self.max_age: int | None = None
        self.token_request = False  # signed in by an access token: no cookie either way
        if token is not None:
            self[_USER_ID] = server_sessions.binding_of(token)


def services() -> Services:
    svc: Services = current_app.extensions["authsvc"]
    return svc


def _session() -> WebSession:
    web = session._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(web, WebSession)  # noqa: S101 - init() installs ServerSideSessions
    return web


def caller() -> Caller:
    """This cookie session's binding (an anonymous id is made on first use) and its origin."""
    web = _session()
    if web.token_request:
        user = current_user._get_current_object() if current_user.is_authenticated else None
        return tokens.token_caller(None if user is None else user.record.public_id)
    if web.token is None:
        web.token = server_sessions.new_token()
        web.issue = True
    return bound_caller(server_sessions.binding_of(web.token))


def bound_caller(binding: str) -> Caller:
    """This request's address and origin, its ceremonies bound to ``binding``.

    ``/api/v1`` ceremonies are bound to their ``ceremonyId`` (an app has no cookie), so
    they use this directly: no cookie is read or made for them.
    """
    origin = request.headers.get("Origin")
    address = request.remote_addr  # behind TRUSTED_PROXIES, taken from X-Forwarded-For
    return Caller(
        binding=binding,
        client_address=address[:_MAX_ADDRESS_CHARS] if address else None,
        claimed_origin=origin[:_MAX_ORIGIN_CHARS] if origin else None,
    )


def cookie_binding() -> str | None:
    """The binding of the request's cookie session, if it sent one (a token request never)."""
    web = _session()
    if web.token_request or web.token is None or web.issue:
        return None
    return server_sessions.binding_of(web.token)


def pending_ceremony(kind: CeremonyKind, who: Caller) -> str | None:
    """The id of this session's pending ceremony of ``kind``, if it can have one.

    A cookie id made in this very request has asked for no options: its result is refused
    before it reaches storage (and the audit log), as when a session holds no ceremony.
    """
    return None if _session().issue else ceremony_id(kind, who.binding)


def user_agent() -> str | None:
    return request.headers.get("User-Agent") or None


def sign_in(opened: OpenedSession) -> None:
    """Send the id of a session a ceremony just signed in (rotated: the old id is dead).

    ``current_user`` keeps what it was for the rest of this request; the next request
    loads the new record.
    """
    web = _session()
    web.token = opened.token
    web.issue = True
    web.max_age = services().settings.session_lifetime


def signed_out() -> None:
    """The caller's session was ended: drop the cookie and forget the user for this request."""
    logout_user()
    web = _session()
    web.token = None
    web.issue = False
    web.drop = True


def signed_in() -> SessionUser:
    """The signed-in user, or Unauthenticated (401) for no, an ended or an expired session."""
    if not current_user.is_authenticated:
        raise Unauthenticated("sign in first")
    user: SessionUser = current_user._get_current_object()
    return user


def actor() -> Actor:
    """The caller as the admin use cases see them; anonymous is refused there, audited."""
    if not current_user.is_authenticated:
        return Actor(None, None, None, caller())
    user: SessionUser = current_user._get_current_object()
    return Actor(user.id, user.role, user.record.verified_at, caller(), user.record.recovered)


def _load_token_user(_request: Request) -> SessionUser | None:
    """flask-login's request loader: the user of the request's access token, if any."""
    found = tokens.token_session() if _session().token_request else None
    if found is None:
        return None
    account = found.view.account
    return SessionUser(
        account.user_id, account.username, account.display_name, account.role, found.record
    )


def _load_user(binding: str) -> SessionUser | None:
    found: CurrentSession | None = server_sessions.load(services(), binding)
    if found is None:
        return None
    account = found.account
    return SessionUser(
        account.user_id, account.username, account.display_name, account.role, found.record
    )


class ServerSideSessions(SessionInterface):
    """Reads the opaque id from the cookie and sets or deletes the cookie; stores nothing."""

    def __init__(self, *, secure: bool) -> None:
        self._secure = secure
        # __Host-: the browser refuses it unless Secure, Path=/ and no Domain, so neither
        # a sibling subdomain nor a plain-http page can plant or overwrite it
        self._name = "__Host-session" if secure else "session"

    @override
    def open_session(self, app: Flask, request: Request) -> WebSession:
        if tokens.is_token_request(request):
            web = WebSession(None)
            web.token_request = True
            return web
        raw = request.cookies.get(self._name)
        return WebSession(raw if server_sessions.is_token(raw) else None)

    @override
    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, WebSession) or session.token_request:
            return
        if session.drop:
            response.delete_cookie(
                self._name, path="/", secure=self._secure, httponly=True, samesite="Lax"
            )
        elif session.issue and session.token is not None:
            response.set_cookie(
                self._name,
                session.token,
                max_age=session.max_age,
                path="/",
                secure=self._secure,
                httponly=True,
                samesite="Lax",
            )
        else:
            return
        response.vary.add("Cookie")


def _refresh_metadata() -> None:
    services().metadata.maybe_refresh()


def init(app: Flask) -> None:
    app.before_request(_refresh_metadata)
    settings = app.extensions["authsvc"].settings
    app.session_interface = ServerSideSessions(secure=settings.secure_cookies)
    manager = LoginManager()
    manager.session_protection = None  # the record is bound server-side, not by IP/UA
    manager.user_loader(_load_user)
    manager.request_loader(_load_token_user)
    manager.init_app(app)
