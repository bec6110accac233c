"""``GET /.well-known/webauthn``: the related origins that may use this RP ID.

WebAuthn Level 3 related origin requests: when a page on ``https://example.co.uk`` asks for
a credential of RP ID ``example.com``, Chrome, Safari and Firefox fetch
``https://example.com/.well-known/webauthn`` (no cookies, no referrer, https only) and go
on only if it answers 200 ``application/json`` whose ``origins`` lists the calling
origin. The list is ``RELATED_ORIGINS``, the same one the ceremonies accept
(:mod:`authsvc.ceremony.origins`), so the two cannot disagree.

The document must be reachable on the RP ID's own host: where this service runs on
another name (``login.example.com``), the front proxy routes this one path of
``example.com`` here. It answers 200 directly, never a redirect (browsers follow one only
if it stays on https, so a proxy must not add an http hop), and 404 ``not_found`` when the
setting is empty, which browsers take as "no related origins". Its headers (public, cacheable for an
hour, readable cross-origin) are chosen by :mod:`authsvc.web.guards` with every other
response's.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from authsvc.errors import NotFound
from authsvc.web.sessions import services

bp = Blueprint("well_known", __name__)


@bp.get("/.well-known/webauthn")
def webauthn() -> Response:
    related = services().settings.related_origins
    if not related:
        raise NotFound("no related origins are configured")
    return jsonify({"origins": list(related)})
