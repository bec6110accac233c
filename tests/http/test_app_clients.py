"""Native app clients through the admin API, the association files, and what ceremonies ask.

Every change is an admin call with step-up, audited in its own transaction; bad input is
``malformed`` and writes nothing; a second app with the same client id or fingerprint is
``conflict``. ``ceremony_origins`` and ``authenticate_backend`` are called as the /api/v1
ceremonies and the registration-token endpoint call them, on the real database.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from authsvc import create_app
from authsvc.errors import Conflict, OriginMismatch
from authsvc.services import app_clients as app_service
from authsvc.services.app_clients import AppRef, authenticate_backend, ceremony_origins
from authsvc.settings import Settings
from authsvc.storage.db import transaction
from authsvc.storage.models import app_clients, app_fingerprints
from mobile_bridge.apps import origin_of
from tests.conftest import ORIGIN
from tests.http.admin_flows import AdminBrowser, signed_in_admin
from tests.http.flows import advance_clock, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

UPLOAD = hashlib.sha256(b"upload key certificate").digest()
PLAY = hashlib.sha256(b"play app signing certificate").digest()
OTHER = hashlib.sha256(b"someone else's certificate").digest()
IOS_APP = {"platform": "ios", "appId": "ABCDE12345.com.example.app", "name": "Example"}
ANDROID_APP = {
    "platform": "android",
    "packageName": "com.example.app",
    "fingerprints": [UPLOAD.hex(":"), PLAY.hex().upper()],  # lower-case pairs, bare hex
}


def _rows(app: Flask) -> tuple[int, int]:
    with services(app).engine.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(app_clients)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(app_fingerprints)).scalar_one()),
        )


def _last(app: Flask) -> dict[str, Any]:
    return audit_rows(services(app).engine)[-1]


def _add(admin: AdminBrowser, body: dict[str, Any]) -> dict[str, Any]:
    response = admin.call("POST", "/apps", body)
    assert response.status_code == 201, response.json
    added: dict[str, Any] = response.json  # type: ignore[assignment]
    return added


def test_an_ios_app_is_added_listed_published_and_audited(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    added = _add(admin, IOS_APP)
    assert added["clientId"] == "ABCDE12345.com.example.app"
    assert (added["platform"], added["teamId"], added["bundleId"]) == (
        "ios",
        "ABCDE12345",
        "com.example.app",
    )
    assert added["fingerprints"] == [] and added["hasSecret"] is True
    secret = added["clientSecret"]
    with services(app).engine.connect() as conn:
        stored: bytes = conn.execute(select(app_clients.c.secret_hash)).scalar_one()
    assert stored == hashlib.sha256(secret.encode()).digest()  # the hash only, never the secret
    row = _last(app)
    assert (row["event"], row["outcome"], row["code"]) == ("admin.app.add", "success", None)
    assert row["actor_user_id"] is not None
    assert secret not in (row["detail"] or "")
    assert json.loads(row["detail"])["client_id"] == "ABCDE12345.com.example.app"

    listed = admin.call("GET", "/apps").json
    assert listed is not None
    assert [a["clientId"] for a in listed["apps"]] == ["ABCDE12345.com.example.app"]
    assert "clientSecret" not in listed["apps"][0]

    aasa = app.test_client().get("/.well-known/apple-app-site-association")
    assert aasa.status_code == 200 and aasa.mimetype == "application/json"
    assert aasa.json == {"webcredentials": {"apps": ["ABCDE12345.com.example.app"]}}


def test_an_android_app_is_published_with_every_fingerprint_upper_case(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    added = _add(admin, {**ANDROID_APP, "name": "Example for Android"})
    assert added["fingerprints"] == sorted([UPLOAD.hex(":").upper(), PLAY.hex(":").upper()])
    assert set(added["origins"]) == {origin_of(UPLOAD), origin_of(PLAY)}
    response = app.test_client().get("/.well-known/assetlinks.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.json == [
        {
            "relation": ["delegate_permission/common.get_login_creds"],
            "target": {
                "namespace": "android_app",
                "package_name": "com.example.app",
                "sha256_cert_fingerprints": added["fingerprints"],
            },
        }
    ]


def test_the_files_answer_200_with_no_apps_and_are_never_per_session(app: Flask) -> None:
    client = app.test_client()
    for path, empty in (
        ("/.well-known/apple-app-site-association", {"webcredentials": {"apps": []}}),
        ("/.well-known/assetlinks.json", []),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json == empty
        assert response.headers["Cache-Control"] == "public, max-age=300"
        assert "Set-Cookie" not in response.headers
    # a path next to them is no document
    assert client.get("/.well-known/assetlinks").status_code == 404


def test_the_api_refuses_anonymous_and_non_admin_callers(app: Flask) -> None:
    anonymous = AdminBrowser(app.test_client())
    problem(anonymous.call("POST", "/apps", IOS_APP), "unauthenticated", 401)
    user = AdminBrowser(app.test_client())
    auth = SoftAuthenticator()
    user.register(auth, "mallory")
    user.sign_in(auth, "mallory")
    problem(user.call("POST", "/apps", IOS_APP), "forbidden", 403)
    problem(user.call("GET", "/apps"), "forbidden", 403)
    problem(user.call("DELETE", "/apps/1"), "forbidden", 403)
    row = _last(app)
    assert (row["event"], row["outcome"], row["code"]) == (
        "admin.app.remove",
        "failure",
        "forbidden",
    )
    assert _rows(app) == (0, 0)


def test_changes_need_a_fresh_step_up_but_listing_does_not(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    pk = _add(admin, IOS_APP)["id"]
    advance_clock(app, 301)  # past the default policy's step-up window
    problem(admin.call("POST", "/apps", ANDROID_APP), "step_up_required", 401)
    problem(admin.call("DELETE", f"/apps/{pk}"), "step_up_required", 401)
    row = _last(app)
    assert (row["event"], row["code"]) == ("admin.app.remove", "step_up_required")
    assert admin.call("GET", "/apps").status_code == 200
    assert _rows(app) == (1, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"platform": "ios"},
        {"platform": "ios", "appId": "abcde12345.com.example"},
        {"platform": "ios", "appId": "ABCDE12345.com..example"},
        {**IOS_APP, "fingerprints": [UPLOAD.hex()]},
        {"platform": "android", "packageName": "com.example.app"},
        {**ANDROID_APP, "appId": "ABCDE12345.com.example.app"},
        {**ANDROID_APP, "packageName": "example"},
        {**ANDROID_APP, "fingerprints": [UPLOAD.hex(), "not a fingerprint"]},
        {**ANDROID_APP, "fingerprints": [UPLOAD.hex(), UPLOAD.hex(":")]},  # the same twice
        {**ANDROID_APP, "fingerprints": []},
        {**ANDROID_APP, "fingerprints": [bytes([i]) * 32 for i in range(11)]},
        {**ANDROID_APP, "name": ""},
        {**ANDROID_APP, "name": "bell\a"},
        {**ANDROID_APP, "secret": "chosen"},
        {"platform": "windows", "appId": "ABCDE12345.com.example.app"},
        [IOS_APP],
    ],
)
def test_bad_input_is_malformed_and_writes_nothing(app: Flask, body: Any) -> None:
    admin, _ = signed_in_admin(app)
    if isinstance(body, dict) and isinstance(body.get("fingerprints"), list):
        body = {
            **body,
            "fingerprints": [f if isinstance(f, str) else f.hex() for f in body["fingerprints"]],
        }
    problem(admin.call("POST", "/apps", body), "malformed")
    row = _last(app)
    assert (row["event"], row["outcome"], row["code"]) == ("admin.app.add", "failure", "malformed")
    assert _rows(app) == (0, 0)


def test_a_second_app_with_the_same_client_id_or_fingerprint_is_a_conflict(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    _add(admin, IOS_APP)
    _add(admin, ANDROID_APP)
    problem(admin.call("POST", "/apps", {**IOS_APP, "name": "again"}), "conflict", 409)
    problem(
        admin.call("POST", "/apps", {**ANDROID_APP, "fingerprints": [OTHER.hex()]}), "conflict", 409
    )
    stolen = {
        "platform": "android",
        "packageName": "com.evil.app",
        "fingerprints": [OTHER.hex(), PLAY.hex()],
    }
    problem(admin.call("POST", "/apps", stolen), "conflict", 409)
    row = _last(app)
    assert (row["event"], row["code"]) == ("admin.app.add", "conflict")
    assert _rows(app) == (2, 2)  # not even the new package's first fingerprint


def test_removing_an_app_unpublishes_it_and_refuses_its_origin_at_once(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    pk = _add(admin, ANDROID_APP)["id"]
    svc = services(app)
    with transaction(svc.engine) as conn:
        policy, found = ceremony_origins(svc, conn, origin=origin_of(PLAY), client_id=None)
    assert found == AppRef(pk, "com.example.app", "android")
    assert origin_of(PLAY) in policy.origins
    assert admin.call("DELETE", f"/apps/{pk}").status_code == 204
    row = _last(app)
    assert (row["event"], row["outcome"]) == ("admin.app.remove", "success")
    assert json.loads(row["detail"])["client_id"] == "com.example.app"
    assert _rows(app) == (0, 0)  # the fingerprints went with it
    with transaction(svc.engine) as conn:
        policy, found = ceremony_origins(svc, conn, origin=origin_of(PLAY), client_id=None)
    assert found is None and origin_of(PLAY) not in policy.origins
    assert app.test_client().get("/.well-known/assetlinks.json").json == []
    problem(admin.call("DELETE", f"/apps/{pk}"), "not_found", 404)
    problem(admin.call("DELETE", "/apps/0x1"), "not_found", 404)


def test_fingerprints_are_added_and_removed_but_never_the_last(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    added = _add(admin, {**ANDROID_APP, "fingerprints": [UPLOAD.hex()]})
    pk = added["id"]
    more = admin.call("POST", f"/apps/{pk}/fingerprints", {"fingerprint": PLAY.hex(":")})
    assert more.status_code == 201, more.json
    assert more.json is not None and len(more.json["fingerprints"]) == 2
    assert json.loads(_last(app)["detail"])["added"] == PLAY.hex(":").upper()
    problem(
        admin.call("POST", f"/apps/{pk}/fingerprints", {"fingerprint": PLAY.hex()}), "conflict", 409
    )
    fewer = admin.call("DELETE", f"/apps/{pk}/fingerprints/{UPLOAD.hex(':').upper()}")
    assert fewer.status_code == 200, fewer.json
    assert fewer.json is not None and fewer.json["fingerprints"] == [PLAY.hex(":").upper()]
    problem(admin.call("DELETE", f"/apps/{pk}/fingerprints/{PLAY.hex()}"), "conflict", 409)
    problem(admin.call("DELETE", f"/apps/{pk}/fingerprints/{UPLOAD.hex()}"), "not_found", 404)
    problem(admin.call("DELETE", f"/apps/{pk}/fingerprints/nothex"), "not_found", 404)
    problem(admin.call("POST", f"/apps/{pk}/fingerprints", {"fingerprint": "AB"}), "malformed")
    ios = _add(admin, IOS_APP)["id"]
    problem(
        admin.call("POST", f"/apps/{ios}/fingerprints", {"fingerprint": OTHER.hex()}), "malformed"
    )
    problem(
        admin.call("POST", "/apps/999/fingerprints", {"fingerprint": OTHER.hex()}), "not_found", 404
    )
    assert _rows(app) == (2, 1)
    svc = services(app)
    with transaction(svc.engine) as conn:
        _, gone = ceremony_origins(svc, conn, origin=origin_of(UPLOAD), client_id=None)
        _, kept = ceremony_origins(svc, conn, origin=origin_of(PLAY), client_id=None)
    assert gone is None and kept is not None


def test_ceremony_origins_for_each_kind_of_origin_and_client_id(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    android = _add(admin, ANDROID_APP)["id"]
    ios = _add(admin, IOS_APP)["id"]
    _add(
        admin,
        {"platform": "android", "packageName": "com.example.other", "fingerprints": [OTHER.hex()]},
    )
    svc = services(app)
    with transaction(svc.engine) as conn:
        # a registered fingerprint, with and without its own client id
        for client_id in (None, "com.example.app"):
            policy, found = ceremony_origins(
                svc, conn, origin=origin_of(UPLOAD), client_id=client_id
            )
            assert found == AppRef(android, "com.example.app", "android")
            assert policy.origins == svc.origins.origins | {origin_of(UPLOAD)}
        # an unknown fingerprint: the policy stays as configured, so the check refuses it
        unknown = origin_of(hashlib.sha256(b"unknown").digest())
        policy, found = ceremony_origins(svc, conn, origin=unknown, client_id=None)
        assert (policy, found) == (svc.origins, None)
        # another registered app's client id does not match this fingerprint
        policy, found = ceremony_origins(
            svc, conn, origin=origin_of(UPLOAD), client_id="com.example.other"
        )
        assert (policy, found) == (svc.origins, None)
        # the web origin: an iOS app by its client id, or no app at all
        policy, found = ceremony_origins(
            svc, conn, origin=ORIGIN, client_id="ABCDE12345.com.example.app"
        )
        assert (policy, found) == (svc.origins, AppRef(ios, "ABCDE12345.com.example.app", "ios"))
        assert ceremony_origins(svc, conn, origin=ORIGIN, client_id=None) == (svc.origins, None)
        # a client id no app has, with either kind of origin; an Android app on the web
        for origin, client_id in (
            (ORIGIN, "ZZZZZ99999.com.example.app"),
            (origin_of(UPLOAD), "com.example.unregistered"),
            (unknown, "com.example.unregistered"),
            (ORIGIN, "com.example.app"),
        ):
            with pytest.raises(OriginMismatch):
                ceremony_origins(svc, conn, origin=origin, client_id=client_id)


def test_a_static_app_origin_in_origins_keeps_working(app: Flask, settings: Settings) -> None:
    static = origin_of(OTHER)
    other = create_app(replace(settings, origins=(ORIGIN, static)))
    svc = services(other)
    with transaction(svc.engine) as conn:
        policy, found = ceremony_origins(svc, conn, origin=static, client_id=None)
    assert static in policy.origins and found is None
    svc.engine.dispose()


def test_authenticate_backend_takes_only_the_right_secret(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    added = _add(admin, ANDROID_APP)
    secret = added["clientSecret"]
    svc = services(app)
    with transaction(svc.engine) as conn:
        assert authenticate_backend(conn, client_id="com.example.app", secret=secret) == AppRef(
            added["id"], "com.example.app", "android"
        )
        for client_id, wrong in (
            ("com.example.app", secret[:-1] + ("A" if secret[-1] != "A" else "B")),
            ("com.example.app", ""),
            ("com.example.app", secret + "x" * 300),
            ("com.example.other", secret),
            ("x" * 300, secret),
        ):
            assert authenticate_backend(conn, client_id=client_id, secret=wrong) is None


def test_two_removals_at_once_cannot_take_an_apps_last_two_fingerprints(app: Flask) -> None:
    """Raced a few times over: without the app's row lock both would count two and delete."""
    svc = services(app)
    new = app_service.android_app("com.example.app", [UPLOAD.hex(), PLAY.hex()])
    pk = app_service.add_app(svc, None, new).app.id
    for _ in range(5):
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def remove(fp: bytes, barrier: threading.Barrier, outcomes: list[str]) -> None:
            barrier.wait()
            try:
                app_service.remove_fingerprint(svc, None, pk, fp)
                outcomes.append("removed")
            except Conflict:
                outcomes.append("conflict")

        threads = [
            threading.Thread(target=remove, args=(fp, barrier, outcomes)) for fp in (UPLOAD, PLAY)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict", "removed"]
        assert _rows(app) == (1, 1)
        (kept,) = app_service.list_apps(svc, None)[0].fingerprints
        app_service.add_fingerprint(svc, None, pk, PLAY if kept == UPLOAD else UPLOAD)


def test_the_apps_page_is_among_the_admin_pages_and_loads_its_script(app: Flask) -> None:
    admin, _ = signed_in_admin(app)
    page = admin.client.get("/admin/apps")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<script type="module" src="/static/pages/admin_apps.js"></script>' in html
    assert '<a href="/admin/apps" aria-current="page">Apps</a>' in html
    assert 'for="app-id"' in html and 'id="app-id"' in html  # every field has its label
    script = admin.client.get("/static/pages/admin_apps.js")
    assert script.status_code == 200
    assert "/apps/${app.id}/fingerprints" in script.get_data(as_text=True)
    assert '<a href="/admin/apps">Apps</a>' in admin.client.get("/admin").get_data(as_text=True)
