"""``GET /healthz``: can this instance serve a ceremony right now?

For load balancers and ``docker compose``: it answers 200 only when the database (and
Redis, when configured) answer, and says how stale the metadata is; otherwise the usual
problem+json ``unavailable`` (503).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from authsvc.services.health import check
from authsvc.web.sessions import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(check(services()))
