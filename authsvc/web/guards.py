"""What every request and response passes through first and last: cross-site refusal, headers.

A browser sends a signed-in session's cookie with a request that another site starts
(``SameSite=Lax`` still sends it from a sibling subdomain or another port of the same
site, which are "same-site"), so a state-changing request is only as safe as our check of
who started it. Following the OWASP CSRF cheat sheet we verify the two headers a browser
sets and a page's script cannot: ``Origin`` (the Fetch standard sends it on every request
that is not GET or HEAD) must be exactly one of ``ORIGINS``, and ``Sec-Fetch-Site`` (Fetch
Metadata) must not say ``cross-site``. A request with neither header is not from a browser
(native apps, curl, scripts) and has no ambient cookie to abuse, so it passes; the JSON-only
rule of :func:`authsvc.web.schemas.json_body` stays as a second line behind this one.

``RELATED_ORIGINS`` count as allowed ``Origin`` values too. They are other sites, and a
page there calling this service's own host is still refused: every browser that does
related origin requests sends Fetch Metadata, which says ``cross-site`` (nor would its
cookie or a CORS preflight pass). What the allowance admits is this same service answering
on the related origin's host (``https://example.co.uk`` proxied here), whose pages' calls
are same-origin and carry that ``Origin``; an RP trusted that origin with its passkeys by
listing it, so its own requests are not a forgery.

The check runs as the first ``before_request`` hook, so before any body is parsed, any state
is touched or any rate limit counts. Flask runs app-level ``before_request`` hooks in the
order they were registered, and flask-limiter registers its own in ``Limiter.init_app``:
:func:`init` must therefore be called before any other hook is registered (``create_app``
calls it right after building the services). Limits declared with ``@limiter.limit`` run
inside the view, after every hook, so they come after this check anyway.

A refusal is logged, not audited: anyone on the internet can send such a request, and one
audit row each would let them grow the hash chain at will.

Every response, errors and 404s included, gets its security headers in one
``after_request`` hook (Flask runs those for the responses of error handlers too).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

from flask import Flask, Response, request

from authsvc.errors import Forbidden
from authsvc.services.context import Services
from authsvc.settings import Settings

log = logging.getLogger(__name__)

#: RFC 9110 §9.2.1: the methods that must not change state. Every other method, whatever its
#: name, is checked, so an unusual method cannot slip past as "not a POST".
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: The detail of every refusal by this guard (tests tell it apart from other ``forbidden``).
REFUSAL_DETAIL = "cross-site request refused: Origin or Sec-Fetch-Site names another site"
#: Fetch Metadata values that pass on their own: our own page, or the user typing a URL.
_FETCH_SITE_PASSES = frozenset({"same-origin", "none"})
_MAX_LOGGED_CHARS = 100  # header values are the attacker's: cut them before logging

#: The headers of an API response (JSON, problem+json, the empty bodies of HEAD and OPTIONS):
#: nothing in it may be sniffed into a script or page, framed, cached, referred to, or
#: loaded by another origin as a subresource (CORP), and a window it opens keeps no handle
#: to ours (COOP). ``no-store`` because options, sign-in results and admin JSON are
#: per-session and some are sensitive.
API_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
)
#: The CSP of an HTML page (and of nothing else): our own scripts and one stylesheet, never
#: inline code, so an injected ``<script>`` or ``style=`` does nothing; ``data:`` images for
#: the authenticator icons that FIDO metadata carries as data URLs; fetch() only to us; no
#: ``<base>`` rewrite, no form posting elsewhere, no framing (clickjacking a passkey prompt).
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HTML_MIMETYPE = "text/html"
#: Public documents, by endpoint, that browsers on other sites fetch without cookies:
#: ``/.well-known/webauthn`` is the same for everyone, so a successful answer may be kept
#: by any cache for an hour and read cross-origin; so is the OpenAPI document (it changes
#: only with a deployment). The hour is only how long a newly added
#: related origin may wait for browsers holding the old copy; a removed one is refused by
#: the ceremonies at once, whatever a cache still says. Errors (404 when unset) stay no-store.
PUBLIC_DOCUMENTS = frozenset({"well_known.webauthn", "openapi.openapi_document"})
_DOCUMENT_METHODS = frozenset({"GET", "HEAD"})  # not Flask's automatic OPTIONS answer
PUBLIC_DOCUMENT_HEADERS: Mapping[str, str] = MappingProxyType(
    {"Cache-Control": "public, max-age=3600", "Cross-Origin-Resource-Policy": "cross-origin"}
)
#: Public documents that a key rotation changes: cached a minute, so a resource server
#: holding the old copy meets a new ``kid`` for at most that long (it should also re-fetch
#: when a token names a kid it does not know).
#: The app association files change when an admin adds or removes an app: five minutes,
#: so a proxy in front of us delays a new app little (Apple's CDN and Google's verifier
#: keep their own copies for longer anyway); a removed Android app's origin is refused by
#: the ceremonies at once, whatever a cache still says.
SHORT_LIVED_DOCUMENTS: Mapping[str, str] = MappingProxyType(
    {
        "oauth.jwks": "public, max-age=60",
        "app_association.apple_app_site_association": "public, max-age=300",
        "app_association.assetlinks": "public, max-age=300",
    }
)
HSTS_HEADER = "Strict-Transport-Security"
#: Two years (the max-age hstspreload.org recommends) with subdomains; ``preload`` is left to
#: the operator, since leaving the browsers' preload list takes months.
HSTS_VALUE = "max-age=63072000; includeSubDomains"


def serves_https_only(settings: Settings) -> bool:
    """Whether HSTS may be sent: no origin is plain http, and the service is on https.

    An ``http`` origin (allowed for localhost only) means a developer's machine, where HSTS
    would pin every port of ``localhost`` to https in their browser for two years. Otherwise
    the service is on https when a web origin is, or when ``SECURE_COOKIES`` says so (an
    app-only deployment lists only ``android:`` origins). Decided from the configuration,
    not from each request's scheme, which a TLS-terminating proxy hides unless it is counted
    in ``TRUSTED_PROXIES``; browsers ignore HSTS on plain http anyway (RFC 6797 §8.1).
    """
    if any(origin.startswith("http://") for origin in settings.origins):
        return False
    return settings.secure_cookies or any(o.startswith("https://") for o in settings.origins)


def _cut(value: str | None) -> str | None:
    return None if value is None else value[:_MAX_LOGGED_CHARS]


def _is_cross_site(origin: str | None, fetch_site: str | None, allowed: frozenset[str]) -> bool:
    """The OWASP checks: a present Origin must be allowed, Fetch Metadata must not object.

    ``Origin: null`` (sandboxed frames, some redirects) is present and not allowed.
    ``same-site`` passes only with an allowed Origin, since a sibling subdomain is the same
    site. A ``Sec-Fetch-Site`` value other than the four the Fetch Metadata spec defines is
    refused like ``cross-site``: no browser sends one, so failing closed costs nothing.
    """
    if origin is not None and origin not in allowed:
        return True
    if fetch_site is None:
        return False
    if fetch_site == "same-site":
        return origin is None
    return fetch_site not in _FETCH_SITE_PASSES


def _api_headers(*, hsts: bool) -> Mapping[str, str]:
    return {**API_HEADERS, HSTS_HEADER: HSTS_VALUE} if hsts else API_HEADERS


def init(app: Flask) -> None:
    """Install the cross-site check (first before_request hook) and the response headers."""
    services: Services = app.extensions["authsvc"]
    allowed = frozenset((*services.settings.origins, *services.settings.related_origins))
    api_headers = _api_headers(hsts=serves_https_only(services.settings))
    page_headers = {**api_headers, "Content-Security-Policy": PAGE_CSP}

    def refuse_cross_site() -> None:
        if request.method in SAFE_METHODS:
            return
        origin = request.headers.get("Origin")
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if not _is_cross_site(origin, fetch_site, allowed):
            return
        log.warning(
            "refused cross-site %s %r: Origin %r, Sec-Fetch-Site %r",
            request.method[:_MAX_LOGGED_CHARS],
            _cut(request.path),
            _cut(origin),
            _cut(fetch_site),
        )
        raise Forbidden(REFUSAL_DETAIL)

    def add_headers(response: Response) -> Response:
        # The one place that picks a response's security headers: an HTML page (ours, or a
        # redirect's body) gets the page CSP, everything else the API's ``default-src 'none'``.
        is_page = response.mimetype == HTML_MIMETYPE
        response.headers.update(page_headers if is_page else api_headers)
        if (
            request.endpoint in PUBLIC_DOCUMENTS
            and request.method in _DOCUMENT_METHODS
            and response.status_code == 200
        ):
            response.headers.update(PUBLIC_DOCUMENT_HEADERS)
        elif (
            (cache := SHORT_LIVED_DOCUMENTS.get(request.endpoint or ""))
            and request.method in _DOCUMENT_METHODS
            and response.status_code == 200
        ):
            response.headers["Cache-Control"] = cache
            response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    app.before_request(refuse_cross_site)
    app.after_request(add_headers)
