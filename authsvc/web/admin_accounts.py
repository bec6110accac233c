"""``/api/v1/admin/users/<id>/sessions`` and ``…/status``: end a user's sessions, disable one.

Made by :func:`~authsvc.web.admin_calls.admin_route` like the rest of the admin API (kept
apart only to leave :mod:`authsvc.web.admin` its size): the caller is authorised, and
audited, before the path or body is read, and every refusal of input is audited once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from flask import Blueprint, Response, jsonify

from authsvc.services import admin_accounts
from authsvc.services.admin import Actor
from authsvc.services.records import USER_STATUSES
from authsvc.web.admin_calls import admin_route, choice, path_id
from authsvc.web.api_schemas import ID, PATH_ID, obj
from authsvc.web.sessions import services

bp = Blueprint("admin_accounts", __name__, url_prefix="/api/v1/admin")
_STATUS: Final = {"enum": sorted(USER_STATUSES)}


def _user(user_id: str) -> int:
    return path_id(user_id, "user")


@admin_route(
    bp,
    "DELETE",
    "/users/<user_id>/sessions",
    "session.revoke_all",
    _user,
    summary="End every session and token session of a user",
    path={"user_id": PATH_ID},
    responses={200: obj({"user": ID, "sessionsEnded": {"type": "integer", "minimum": 0}})},
    errors=("not_found",),
)
def end_sessions(actor: Actor, user_id: int) -> Response:
    ended = admin_accounts.revoke_user_sessions(services(), actor, user_id)
    return jsonify({"user": user_id, "sessionsEnded": ended})


def _status_change(user_id: str, body: Mapping[str, Any]) -> tuple[int, str]:
    return path_id(user_id, "user"), choice(body["status"], "status", USER_STATUSES)


@admin_route(
    bp,
    "PUT",
    "/users/<user_id>/status",
    "user.status",
    _status_change,
    summary="Disable a user (ending their sessions) or enable them again",
    path={"user_id": PATH_ID},
    body=obj({"status": _STATUS}),
    responses={200: obj({"user": ID, "status": _STATUS})},
    errors=("not_found", "conflict"),
)
def set_status(actor: Actor, change: tuple[int, str]) -> Response:
    user_id, status = change
    admin_accounts.set_user_status(services(), actor, user_id, status)
    return jsonify({"user": user_id, "status": status})
