"""``/api/v1/admin/users/<id>/sessions`` and ``…/status``: end a user's sessions, disable one.

Like the rest of the admin API, the caller is authorised (and audited, anonymous callers
included) by :func:`authsvc.services.admin.run_admin` before the body is looked at: the
body is read inside the use case, so a caller without the role learns nothing of it.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from authsvc.errors import Malformed
from authsvc.services import admin_accounts
from authsvc.web import schemas
from authsvc.web.sessions import actor, services

bp = Blueprint("admin_accounts", __name__, url_prefix="/api/v1/admin/users")


@bp.delete("/<int(min=1, max=2147483647):user_id>/sessions")
def end_sessions(user_id: int) -> Response:
    ended = admin_accounts.revoke_user_sessions(services(), actor(), user_id)
    return jsonify({"user": user_id, "sessionsEnded": ended})


def _status() -> object:
    """The requested status; read only once the caller is known to be an admin."""
    body = schemas.json_body(request)
    if set(body) != {"status"}:
        raise Malformed('the body must be {"status": "active" | "disabled"}')
    return body["status"]


@bp.put("/<int(min=1, max=2147483647):user_id>/status")
def set_status(user_id: int) -> Response:
    status = admin_accounts.set_user_status(services(), actor(), user_id, _status)
    return jsonify({"user": user_id, "status": status})
