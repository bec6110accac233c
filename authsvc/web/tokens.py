"""Tokens at the HTTP edge: the ``Authorization`` and ``DPoP`` headers, and ``DPoP-Nonce``.

A request with ``Authorization: Bearer <token>`` or ``Authorization: DPoP <token>`` is a
*token request*: it is signed in by its access token alone (flask-login's request loader
in :mod:`authsvc.web.sessions` calls :func:`token_session`), its cookie is neither read
nor set, and its :class:`~authsvc.services.context.Caller` is the token session's. Other
schemes (``Basic`` for an app's back end) are left to the routes that take them.

Every response of ``/api/v1`` and ``/oauth`` carries a fresh ``DPoP-Nonce`` (RFC 9449 §8):
a client always holds a nonce the service accepts, and a refusal for a missing or old one
(``use_dpop_nonce``) carries the one to retry with.
"""

from __future__ import annotations

import re
from typing import Final

from flask import Flask, Request, Response, current_app, request

from authsvc.errors import DpopInvalid, DpopInvalidAtResource
from authsvc.services import token_requests, tokens
from authsvc.services.context import Caller, Services
from authsvc.services.token_requests import TokenSession
from authsvc.services.tokens import token_binding

NONCE_HEADER: Final = "DPoP-Nonce"
NONCE_PATHS: Final = ("/api/v1/", "/oauth/")
_AUTHORIZATION: Final = re.compile(
    r"(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*)", re.ASCII | re.IGNORECASE
)
_SCHEMES: Final = {"bearer": tokens.BEARER, "dpop": tokens.DPOP}
_MAX_ADDRESS_CHARS: Final = 64
#: a token request whose token did not sign it in: audited with no session
_NO_SESSION: Final = "token:"


def _services() -> Services:
    svc: Services = current_app.extensions["authsvc"]
    return svc


def is_token_request(req: Request) -> bool:
    """Whether ``req`` presents an access token (so it never uses or gets a cookie)."""
    scheme = req.headers.get("Authorization", "").split(" ", 1)[0].lower()
    return scheme in _SCHEMES


def _proof(*, at_resource: bool) -> str | None:
    """The request's one DPoP header, if any (RFC 9449 §4.3 step 1: never two)."""
    found = request.headers.getlist("DPoP")
    if len(found) > 1:
        error = DpopInvalidAtResource if at_resource else DpopInvalid
        raise error("send one DPoP header, not several")
    return found[0] if found else None


def dpop_at_sign_in() -> str | None:
    """Verify the request's DPoP header, if any, as a proof for this request (no access token
    yet): return its key's RFC 7638 thumbprint (jkt), None when the request has no DPoP header;
    raise the DPoP errors (with the DPoP-Nonce header) otherwise."""
    proof = _proof(at_resource=False)
    if proof is None:
        return None
    svc = _services()
    verified = token_requests.check_proof(
        svc, proof, method=request.method, urls=token_requests.dpop_urls(svc, request.path)
    )
    return verified.jkt


def token_session() -> TokenSession | None:
    """The live token session the request's ``Authorization`` header signs in, if any.

    None when the request presents no access token; the refusals of a token that does not
    verify (``unauthenticated``) or of a missing or bad DPoP proof are raised.
    """
    match = _AUTHORIZATION.fullmatch(request.headers.get("Authorization", ""))
    if match is None:
        return None
    scheme = _SCHEMES[match.group(1).lower()]
    return token_requests.authenticate(
        _services(),
        match.group(2),
        scheme=scheme,
        proof=_proof(at_resource=True),
        method=request.method,
        path=request.path,
    )


def token_caller(sid: str | None) -> Caller:
    """A token request's caller: its token session's binding, or none when not signed in."""
    address = request.remote_addr
    return Caller(
        binding=_NO_SESSION if sid is None else token_binding(sid),
        client_address=address[:_MAX_ADDRESS_CHARS] if address else None,
    )


def _add_nonce(response: Response) -> Response:
    if request.path.startswith(NONCE_PATHS):
        svc = _services()
        response.headers[NONCE_HEADER] = svc.tokens.nonces.issue(svc.clock())
    return response


def init(app: Flask) -> None:
    """Send a fresh ``DPoP-Nonce`` with every ``/api/v1`` and ``/oauth`` response."""
    app.after_request(_add_nonce)
