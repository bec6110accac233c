"""Registered native apps: adding, listing and removing them, and what ceremonies ask of them.

An admin (the admin API, with step-up) or the operator (``authsvc app``, audited with no
actor) registers an iOS app by its app ID or an Android app by its package name and
signing-certificate fingerprints. Each app gets a client secret for its back end (to ask
for registration tokens), shown once; only its SHA-256 is stored.

The ceremonies ask :func:`ceremony_origins` which origins a ceremony may carry: an
``android:apk-key-hash:`` origin is accepted only while a registered app holds that
fingerprint, looked up with one indexed statement per ceremony and no cache, so removing
the app refuses its origin in the next ceremony on every instance. The association files
are built per request from one statement for the same reason; they are a few hundred
bytes, and the HTTP layer lets caches keep them for five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy import Connection

from authsvc.ceremony.origins import OriginPolicy
from authsvc.errors import Conflict, Malformed, NotFound, OriginMismatch
from authsvc.services.admin import Actor, run_admin
from authsvc.services.audited import Subject, run_audited
from authsvc.services.context import Services
from authsvc.services.operations import CLI
from authsvc.storage import app_clients as store
from authsvc.storage.app_clients import AppRow
from authsvc.storage.db import transaction
from mobile_bridge import association
from mobile_bridge.apps import (
    ANDROID,
    IOS,
    MAX_FINGERPRINTS,
    AndroidApp,
    AppClientInvalid,
    IosApp,
    check_name,
    fingerprint_of_origin,
    format_fingerprint,
    parse_fingerprint,
)

T = TypeVar("T")

_SECRET_BYTES: Final = 32
#: a presented secret longer than this is no secret of ours (ours are 43 characters)
_MAX_SECRET_CHARS: Final = 256
_NO_SECRET: Final = bytes(32)  # compared against when the client id is unknown


@dataclass(frozen=True, slots=True)
class AppRef:
    """The registered app a ceremony or a back-end call comes from."""

    pk: int
    client_id: str  # iOS "TEAMID.bundle.id"; Android package name
    platform: str  # "ios" | "android"


@dataclass(frozen=True, slots=True)
class NewApp:
    """An app to register: what identifies it, and its display label (None: its client id)."""

    app: IosApp | AndroidApp
    name: str | None = None

    @property
    def client_id(self) -> str:
        return self.app.app_id if isinstance(self.app, IosApp) else self.app.package_name


@dataclass(frozen=True, slots=True)
class AddedApp:
    """A just-registered app and its back end's client secret (never shown again)."""

    app: AppRow
    client_secret: str


# -- input: every refusal is ``malformed`` with the rule that was broken ------------------


@contextmanager
def _refused_as_malformed() -> Iterator[None]:
    try:
        yield
    except AppClientInvalid as exc:
        raise Malformed(str(exc)) from exc


def ios_app(app_id: str, name: str | None = None) -> NewApp:
    """An iOS app from ``TEAMID.bundle.id``."""
    with _refused_as_malformed():
        return NewApp(IosApp.from_app_id(app_id), None if name is None else check_name(name))


def ios_app_parts(team_id: str, bundle_id: str, name: str | None = None) -> NewApp:
    """An iOS app from its team ID and bundle ID given apart."""
    with _refused_as_malformed():
        return NewApp(IosApp(team_id, bundle_id), None if name is None else check_name(name))


def android_app(package_name: str, fingerprints: Sequence[str], name: str | None = None) -> NewApp:
    """An Android app from its package name and fingerprints (``AB:CD:…`` or 64 hex digits)."""
    with _refused_as_malformed():
        parsed = tuple(parse_fingerprint(fp) for fp in fingerprints)
        return NewApp(AndroidApp(package_name, parsed), None if name is None else check_name(name))


def fingerprint(text: str) -> bytes:
    with _refused_as_malformed():
        return parse_fingerprint(text)


# -- what the ceremonies and the app back ends ask ----------------------------------------


def ceremony_origins(
    services: Services, conn: Connection, *, origin: str, client_id: str | None
) -> tuple[OriginPolicy, AppRef | None]:
    """The origins this ceremony accepts, and the registered app it comes from.

    - ``android:apk-key-hash:<b64url sha256>``: the Android app holding that fingerprint
      (one indexed SELECT); if there is one (and, when ``client_id`` is given, it is that
      app): ``services.origins`` plus this exact origin, and the app. Otherwise
      ``services.origins`` unchanged, so the ceremony's own origin check refuses it with
      ``origin_mismatch`` (a static ``android:`` entry in ``ORIGINS`` still passes), and None.
    - any other origin: ``services.origins`` and, when ``client_id`` names a registered iOS
      app, that app.
    - a ``client_id`` that names no registered app raises OriginMismatch; so does an
      Android app's client id with a web origin, which Credential Manager never sends for
      an app (it is a page claiming to be the app).
    """
    base = services.origins
    sha256 = fingerprint_of_origin(origin)
    if sha256 is not None:
        found = store.app_by_fingerprint(conn, sha256)
        if found is not None and client_id in (None, found.client_id):
            widened = OriginPolicy(base.origins | {origin}, base.top_origins)
            return widened, AppRef(found.pk, found.client_id, found.platform)
        if client_id is not None and (found is None or client_id != found.client_id):
            _registered(conn, client_id)
        return base, None
    if client_id is None:
        return base, None
    app = _registered(conn, client_id)
    if app.platform != IOS:
        raise OriginMismatch("this app's ceremonies carry its android:apk-key-hash origin")
    return base, app


def _registered(conn: Connection, client_id: str) -> AppRef:
    found = store.app_by_client_id(conn, client_id)
    if found is None:
        raise OriginMismatch("no registered app has this client id")
    return AppRef(found.pk, found.client_id, found.platform)


def authenticate_backend(conn: Connection, *, client_id: str, secret: str) -> AppRef | None:
    """The app whose back-end secret this is (constant-time compare of SHA-256), or None.

    An unknown client id costs the same hash and comparison as a known one, so the time
    taken does not tell which client ids exist.
    """
    if len(client_id) > 255 or len(secret) > _MAX_SECRET_CHARS:
        return None
    found = store.app_by_client_id(conn, client_id)
    expected = found.secret_hash if found is not None and found.secret_hash else _NO_SECRET
    presented = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()
    if not hmac.compare_digest(presented, expected) or found is None:
        return None
    return AppRef(found.pk, found.client_id, found.platform)


def apple_app_site_association(services: Services) -> dict[str, dict[str, list[str]]]:
    with transaction(services.engine) as conn:
        apps = store.list_apps(conn, IOS)
    return association.apple_app_site_association(
        IosApp(a.team_id or "", a.bundle_id or "") for a in apps
    )


def asset_links(services: Services) -> list[dict[str, Any]]:
    with transaction(services.engine) as conn:
        apps = store.list_apps(conn, ANDROID)
    return association.asset_links(
        AndroidApp(a.package_name or "", a.fingerprints) for a in apps if a.fingerprints
    )


# -- admin and operator changes, each audited in its own transaction ----------------------


def _run(
    services: Services,
    actor: Actor | None,
    action: str,
    work: Callable[[Connection, Subject], T],
    *,
    step_up: bool,
) -> T:
    """An admin's call (role, step-up, audited as ``admin.<action>``) or the operator's.

    ``actor`` None is the command line, run on the server by whoever may run it: audited
    under the same event with no actor, like ``authsvc admin create``.
    """
    if actor is not None:
        return run_admin(services, actor, action, work, step_up=step_up)

    def by_operator(conn: Connection, subject: Subject) -> T:
        subject.detail["by"] = "command line"
        return work(conn, subject)

    return run_audited(services, f"admin.{action}", CLI, by_operator)


def _describe(app: AppRow, subject: Subject) -> None:
    subject.detail.update(
        app=app.id,
        client_id=app.client_id,
        platform=app.platform,
        fingerprints=[format_fingerprint(fp) for fp in app.fingerprints],
    )


def list_apps(services: Services, actor: Actor | None) -> list[AppRow]:
    return _run(services, actor, "app.list", lambda conn, _: store.list_apps(conn), step_up=False)


def add_app(services: Services, actor: Actor | None, new: NewApp) -> AddedApp:
    """Register an app; ``conflict`` if its client id or a fingerprint is registered."""
    secret = secrets.token_urlsafe(_SECRET_BYTES)

    def work(conn: Connection, subject: Subject) -> AddedApp:
        ios = new.app if isinstance(new.app, IosApp) else None
        android = new.app if isinstance(new.app, AndroidApp) else None
        row = store.add_app(
            conn,
            client_id=new.client_id,
            platform=IOS if ios else ANDROID,
            name=new.name or new.client_id[:64],
            team_id=ios.team_id if ios else None,
            bundle_id=ios.bundle_id if ios else None,
            package_name=android.package_name if android else None,
            secret_hash=hashlib.sha256(secret.encode()).digest(),
            fingerprints=android.fingerprints if android else (),
            created_at=services.now(),
        )
        _describe(row, subject)
        subject.detail["name"] = row.name
        return AddedApp(row, secret)

    return _run(services, actor, "app.add", work, step_up=True)


def remove_app(services: Services, actor: Actor | None, pk: int) -> AppRow:
    """Remove an app: its origins are refused, and its files no longer list it, at once."""

    def work(conn: Connection, subject: Subject) -> AppRow:
        row = store.remove_app(conn, pk)
        _describe(row, subject)
        return row

    return _run(services, actor, "app.remove", work, step_up=True)


def app_pk(services: Services, client_id: str) -> int | None:
    """The row id of the app with this client id (the command line names apps so)."""
    with transaction(services.engine) as conn:
        found = store.app_by_client_id(conn, client_id)
    return None if found is None else found.pk


def add_fingerprint(services: Services, actor: Actor | None, pk: int, sha256: bytes) -> AppRow:
    """Give an Android app another signing certificate (a new upload key, a rotated one)."""

    def work(conn: Connection, subject: Subject) -> AppRow:
        store.lock_app(conn, pk)
        app = store.get_app(conn, pk)
        if app.platform != ANDROID:
            raise Malformed("only an Android app has signing-certificate fingerprints")
        if len(app.fingerprints) >= MAX_FINGERPRINTS:
            raise Conflict(f"an app has at most {MAX_FINGERPRINTS} fingerprints")
        store.add_fingerprint(conn, pk, sha256)
        subject.detail["added"] = format_fingerprint(sha256)
        row = store.get_app(conn, pk)
        _describe(row, subject)
        return row

    return _run(services, actor, "app.fingerprint.add", work, step_up=True)


def remove_fingerprint(services: Services, actor: Actor | None, pk: int, sha256: bytes) -> AppRow:
    """Take a certificate from an Android app: its origin is refused at once; not the last."""

    def work(conn: Connection, subject: Subject) -> AppRow:
        store.lock_app(conn, pk)
        app = store.get_app(conn, pk)
        if sha256 not in app.fingerprints:
            raise NotFound("this app has no such fingerprint")
        if len(app.fingerprints) == 1:
            raise Conflict("an Android app keeps at least one fingerprint: remove the app instead")
        store.remove_fingerprint(conn, pk, sha256)
        subject.detail["removed"] = format_fingerprint(sha256)
        row = store.get_app(conn, pk)
        _describe(row, subject)
        return row

    return _run(services, actor, "app.fingerprint.remove", work, step_up=True)
