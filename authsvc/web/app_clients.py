"""``/api/v1/admin/apps`` and the two association files native apps are verified with.

The admin routes are made by :func:`~authsvc.web.admin_calls.admin_route` like the rest of
the admin API: the caller is authorised (and audited) before anything is read, then the
body is checked against the schema published in the OpenAPI document and parsed by
:mod:`authsvc.services.app_clients`, each refusal audited as ``admin.app.<action>``.

``GET /.well-known/apple-app-site-association`` and ``GET /.well-known/assetlinks.json``
are public: Apple's CDN and Google's Digital Asset Links verifier fetch them, without
cookies, from the RP ID's own host. They answer 200 ``application/json`` directly (Apple
denies the association on any 3xx, so never a redirect), also when no app is registered
(an empty list: "no apps"), built per request from one statement. Their cache headers are
:mod:`authsvc.web.guards`' (``public, max-age=300``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from flask import Blueprint, Response, jsonify

from authsvc.errors import NotFound
from authsvc.services import app_clients
from authsvc.services.admin import Actor
from authsvc.services.app_clients import AddedApp, NewApp
from authsvc.services.records import AppRow
from authsvc.web.admin_calls import admin_route, no_input, path_id
from authsvc.web.api_schemas import ID, PATH_ID, TIME, component, nullable, obj, text
from authsvc.web.openapi import operation
from authsvc.web.sessions import services
from mobile_bridge.apps import (
    ANDROID,
    IOS,
    MAX_FINGERPRINTS,
    AppClientInvalid,
    format_fingerprint,
    origin_of,
    parse_fingerprint,
)
from mobile_bridge.association import ANDROID_NAMESPACE, GET_LOGIN_CREDS

bp = Blueprint("admin_apps", __name__, url_prefix="/api/v1/admin")
well_known_bp = Blueprint("app_association", __name__)

# -- schemas (the OpenAPI document's, and the input checks') -------------------------------

_APP_ID: Final = text(12, 166, pattern=r"^[A-Z0-9]{10}\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
_PACKAGE: Final = text(3, 255, pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
_FINGERPRINT_IN: Final = {
    "type": "string",
    "pattern": r"^([0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}|[0-9A-Fa-f]{64})$",
    "description": "a signing certificate's SHA-256: 32 colon-separated hex pairs or 64 hex digits",
}
_FINGERPRINT_OUT: Final = {"type": "string", "pattern": r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$"}
_PLATFORM: Final = {"enum": [IOS, ANDROID]}
_APP_MEMBERS: Final = {
    "id": ID,
    "clientId": text(1, 255),
    "platform": _PLATFORM,
    "name": text(1, 64),
    "teamId": nullable(text(10, 10)),
    "bundleId": nullable(text(1, 155)),
    "packageName": nullable(text(1, 255)),
    "fingerprints": {"type": "array", "items": _FINGERPRINT_OUT, "maxItems": MAX_FINGERPRINTS},
    "origins": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_FINGERPRINTS},
    "hasSecret": {"type": "boolean"},
    "createdAt": TIME,
}
APP: Final = component("AppClient", obj(_APP_MEMBERS))
NEW_APP: Final = component(
    "NewAppClient",
    obj({**_APP_MEMBERS, "clientSecret": text(43, 43, pattern="^[A-Za-z0-9_-]{43}$")}),
)
_NEW_APP_BODY: Final = {
    **obj(
        {
            "platform": _PLATFORM,
            "name": text(1, 64),
            "appId": _APP_ID,
            "packageName": _PACKAGE,
            "fingerprints": {
                "type": "array",
                "items": _FINGERPRINT_IN,
                "minItems": 1,
                "maxItems": MAX_FINGERPRINTS,
                "uniqueItems": True,
            },
        },
        required=["platform"],
    ),
    # iOS: appId and nothing of Android's; Android: package and fingerprints, no appId
    "if": {"properties": {"platform": {"const": IOS}}},
    "then": {
        "required": ["appId"],
        "not": {"anyOf": [{"required": ["packageName"]}, {"required": ["fingerprints"]}]},
    },
    "else": {"required": ["packageName", "fingerprints"], "not": {"required": ["appId"]}},
}
_PATH: Final = {"app_id": PATH_ID}


def app_json(app: AppRow) -> dict[str, Any]:
    return {
        "id": app.id,
        "clientId": app.client_id,
        "platform": app.platform,
        "name": app.name,
        "teamId": app.team_id,
        "bundleId": app.bundle_id,
        "packageName": app.package_name,
        "fingerprints": [format_fingerprint(fp) for fp in app.fingerprints],
        "origins": [origin_of(fp) for fp in app.fingerprints],
        "hasSecret": app.has_secret,
        "createdAt": app.created_at.isoformat(),
    }


# -- the admin API --------------------------------------------------------------------------


@admin_route(
    bp,
    "GET",
    "/apps",
    "app.list",
    no_input,
    summary="List the registered native apps",
    responses={200: obj({"apps": {"type": "array", "items": APP}})},
)
def list_apps(actor: Actor, _: None) -> Response:
    found = app_clients.list_apps(services(), actor)
    return jsonify({"apps": [app_json(a) for a in found]})


def _new_app(body: Mapping[str, Any]) -> NewApp:
    name = body.get("name")
    if body["platform"] == IOS:
        return app_clients.ios_app(body["appId"], name)
    return app_clients.android_app(body["packageName"], body["fingerprints"], name)


@admin_route(
    bp,
    "POST",
    "/apps",
    "app.add",
    _new_app,
    summary="Register a native app; answers its back end's client secret, shown only here",
    body=_NEW_APP_BODY,
    responses={201: NEW_APP},
    errors=("conflict",),
    description="An iOS app by its app ID (TEAMID.bundle.id); an Android app by its package "
    "name and the SHA-256 fingerprints of its signing certificates (upload key and Play app "
    "signing key). Step-up. Audited as admin.app.add.",
)
def add_app(actor: Actor, new: NewApp) -> Response:
    added: AddedApp = app_clients.add_app(services(), actor, new)
    response = jsonify({**app_json(added.app), "clientSecret": added.client_secret})
    response.status_code = 201
    return response


def _app(app_id: str) -> int:
    return path_id(app_id, "app")


@admin_route(
    bp,
    "DELETE",
    "/apps/<app_id>",
    "app.remove",
    _app,
    summary="Remove a native app: its origins are refused from the next ceremony on",
    path=_PATH,
    responses={204: None},
    errors=("not_found",),
)
def remove_app(actor: Actor, pk: int) -> Response:
    app_clients.remove_app(services(), actor, pk)
    return Response(status=204)


def _added_fingerprint(app_id: str, body: Mapping[str, Any]) -> tuple[int, bytes]:
    return path_id(app_id, "app"), app_clients.fingerprint(body["fingerprint"])


@admin_route(
    bp,
    "POST",
    "/apps/<app_id>/fingerprints",
    "app.fingerprint.add",
    _added_fingerprint,
    summary="Add a signing-certificate fingerprint to an Android app",
    path=_PATH,
    body=obj({"fingerprint": _FINGERPRINT_IN}),
    responses={201: APP},
    errors=("not_found", "conflict"),
)
def add_fingerprint(actor: Actor, change: tuple[int, bytes]) -> Response:
    response = jsonify(app_json(app_clients.add_fingerprint(services(), actor, *change)))
    response.status_code = 201
    return response


def _removed_fingerprint(app_id: str, fingerprint: str) -> tuple[int, bytes]:
    pk = path_id(app_id, "app")
    try:
        return pk, parse_fingerprint(fingerprint)
    except AppClientInvalid as exc:
        raise NotFound("this app has no such fingerprint") from exc


@admin_route(
    bp,
    "DELETE",
    "/apps/<app_id>/fingerprints/<fingerprint>",
    "app.fingerprint.remove",
    _removed_fingerprint,
    summary="Remove a fingerprint from an Android app (not its last): its origin is refused",
    path={**_PATH, "fingerprint": _FINGERPRINT_IN},
    responses={200: APP},
    errors=("not_found", "conflict"),
)
def remove_fingerprint(actor: Actor, change: tuple[int, bytes]) -> Response:
    return jsonify(app_json(app_clients.remove_fingerprint(services(), actor, *change)))


# -- the association files ----------------------------------------------------------------


@well_known_bp.get("/.well-known/apple-app-site-association")
@operation(
    summary="Apple's associated-domains file: the iOS apps that may use this RP's passkeys",
    tag="well-known",
    responses={200: obj({"webcredentials": obj({"apps": {"type": "array", "items": _APP_ID}})})},
)
def apple_app_site_association() -> Response:
    return jsonify(app_clients.apple_app_site_association(services()))


_STATEMENT: Final = obj(
    {
        "relation": {
            "type": "array",
            "items": {"const": GET_LOGIN_CREDS},
        },
        "target": obj(
            {
                "namespace": {"const": ANDROID_NAMESPACE},
                "package_name": _PACKAGE,
                "sha256_cert_fingerprints": {
                    "type": "array",
                    "items": _FINGERPRINT_OUT,
                    "minItems": 1,
                },
            }
        ),
    }
)


@well_known_bp.get("/.well-known/assetlinks.json")
@operation(
    summary="Digital Asset Links: the Android apps that may use this RP's passkeys",
    tag="well-known",
    responses={200: {"type": "array", "items": _STATEMENT}},
)
def assetlinks() -> Response:
    return jsonify(app_clients.asset_links(services()))
