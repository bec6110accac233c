"""The ``authsvc`` command line: serve, db upgrade, check-config.

``serve`` migrates the database first, so a fresh machine needs no other step; under
gunicorn several workers share the database (SQLite in WAL mode, or PostgreSQL).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from authsvc.settings import ConfigError, Settings

_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def main() -> None:
    """A strict WebAuthn / passkey relying party."""


@main.command()
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
@click.option("--threads", default=4, show_default=True, help="threads per worker")
def serve(workers: int, threads: int) -> None:
    """Migrate the database, then serve on HOST:PORT under gunicorn."""
    from gunicorn.app.base import BaseApplication  # noqa: PLC0415 - only serve needs it

    from authsvc import create_app  # noqa: PLC0415
    from authsvc.storage.db import upgrade  # noqa: PLC0415

    settings = _settings()
    upgrade(settings.database_url)
    app = create_app(settings)

    def _fresh_connections(_server: object, _worker: object) -> None:
        app.extensions["authsvc"].engine.dispose(close=False)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            # The app (and its engine) was built before gunicorn forks its workers: each
            # worker must open its own database connections, never share the parent's.
            self.cfg.set("post_fork", _fresh_connections)

        def load(self) -> Any:
            return app

    click.echo(f"authsvc: RP ID {settings.rp_id}, origins {', '.join(settings.origins)}")
    Server().run()


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration to DATABASE_URL."""
    from authsvc.storage.db import upgrade  # noqa: PLC0415

    upgrade(_settings().database_url)
    click.echo("database is at the latest revision")


def _services() -> Any:
    from authsvc.services.context import Services  # noqa: PLC0415 - loads metadata

    return Services.build(_settings())


@main.group()
def admin() -> None:
    """Admin accounts."""


@admin.command("create")
@click.option(
    "--username",
    required=True,
    help="an existing user (register a passkey first), in any case or width",
)
def admin_create(username: str) -> None:
    """Make an existing user an admin: how the first admin comes to be.

    The username is compared in its RFC 8265 form, as at sign-in: ``ADA`` names ``ada``.
    """
    from authsvc.errors import AuthError  # noqa: PLC0415
    from authsvc.services.operations import promote_admin  # noqa: PLC0415

    try:
        user_id = promote_admin(_services(), username)
    except AuthError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"user {username} (id {user_id}) is now an admin")


@main.group()
def mds() -> None:
    """FIDO metadata."""


@mds.command("refresh")
@click.option("--file", "path", required=True, type=click.Path(exists=True, dir_okay=False))
def mds_refresh(path: str) -> None:
    """Verify a metadata BLOB and make every instance use it, without a restart."""
    from pathlib import Path  # noqa: PLC0415

    from authsvc.services.operations import refresh_metadata  # noqa: PLC0415
    from authsvc.trust.anchors import TrustAnchors  # noqa: PLC0415
    from authsvc.trust.metadata import MetadataRefused  # noqa: PLC0415

    services = _services()
    root = TrustAnchors.from_pem_files([services.settings.mds_root])
    try:
        result = refresh_metadata(services, Path(path).read_bytes(), root=root)
    except MetadataRefused as exc:
        raise click.ClickException(f"refused, the last good metadata stays: {exc}") from exc
    click.echo(
        f"metadata BLOB no {result.no} (next update {result.next_update}): {result.entries} "
        f"entries, verified in {result.verify_seconds:.2f} s, indexed in "
        f"{result.index_seconds:.2f} s; instances pick it up within 30 s"
    )


@main.group()
def keys() -> None:
    """The access-token signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Sign with a new key from now on; the old one verifies until its tokens expire."""
    from authsvc.services.operations import CLI  # noqa: PLC0415
    from authsvc.services.tokens import rotate_signing_keys  # noqa: PLC0415

    services = _services()
    new_kid, retired, dropped = rotate_signing_keys(services, CLI)
    click.echo(
        f"signing key {new_kid} is active; retired {', '.join(retired) or 'none'} (published "
        f"for {services.settings.access_token_ttl} s more); dropped {len(dropped)}; other "
        "instances sign with it within 30 s"
    )


@main.group()
def app() -> None:
    """Native app clients (iOS and Android apps that use this RP's passkeys)."""


@app.command("add")
@click.option("--ios", "app_id", metavar="TEAMID.BUNDLE.ID", help="an iOS app, by its app ID")
@click.option("--android", "package", metavar="PACKAGE", help="an Android app, by package name")
@click.option(
    "--fingerprint",
    "fingerprints",
    multiple=True,
    metavar="FP",
    help="SHA-256 of an Android signing certificate (AB:CD:… or 64 hex digits); repeat it "
    "for the upload key and the Play app signing key",
)
@click.option("--name", default=None, help="a display label (default: the client id)")
def app_add(
    app_id: str | None, package: str | None, fingerprints: tuple[str, ...], name: str | None
) -> None:
    """Register an app and print its back end's client secret (shown only now)."""
    from authsvc.errors import AuthError  # noqa: PLC0415
    from authsvc.services import app_clients  # noqa: PLC0415

    if (app_id is None) == (package is None):
        raise click.UsageError("give exactly one of --ios and --android")
    if app_id is not None and fingerprints:
        raise click.UsageError("--fingerprint is for Android apps")
    if package is not None and not fingerprints:
        raise click.UsageError("an Android app needs at least one --fingerprint")
    try:
        new = (
            app_clients.ios_app(app_id, name)
            if app_id is not None
            else app_clients.android_app(package or "", fingerprints, name)
        )
        added = app_clients.add_app(_services(), None, new)
    except AuthError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"app {added.app.client_id} ({added.app.platform}) is registered")
    click.echo(f"client secret (shown only now): {added.client_secret}")


@app.command("list")
def app_list() -> None:
    """List the registered apps with their origins."""
    from authsvc.services import app_clients  # noqa: PLC0415
    from mobile_bridge.apps import origin_of  # noqa: PLC0415

    found = app_clients.list_apps(_services(), None)
    for row in found:
        click.echo(f"{row.client_id}\t{row.platform}\t{row.name}")
        for fp in row.fingerprints:
            click.echo(f"\t{fp.hex(':').upper()}\t{origin_of(fp)}")
    if not found:
        click.echo("no apps are registered")


@app.command("remove")
@click.argument("client_id")
def app_remove(client_id: str) -> None:
    """Remove the app with this client id: its origins are refused at once."""
    from authsvc.errors import AuthError  # noqa: PLC0415
    from authsvc.services import app_clients  # noqa: PLC0415

    services = _services()
    pk = app_clients.app_pk(services, client_id)
    if pk is None:
        raise click.ClickException("no app has this client id")
    try:
        app_clients.remove_app(services, None, pk)
    except AuthError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"app {client_id} is removed")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; name the first bad event."""
    from authsvc.services.operations import verify_audit  # noqa: PLC0415

    report = verify_audit(_services())
    if report.ok:
        click.echo(f"audit log intact: {report.events} events")
        return
    raise click.ClickException(
        f"audit log broken at seq {report.first_bad_seq} (event id {report.first_bad_id}): "
        f"{report.reason}"
    )


@main.command("check-config")
def check_config() -> None:
    """Validate the configuration from the environment and print it (secrets hidden)."""
    settings = _settings()
    for name, value in sorted(vars(settings).items()):
        shown = "***" if name == "secret_key" else _PASSWORD_IN_URL.sub(r"\1***@", str(value))
        click.echo(f"{name} = {shown}")
    from authsvc.trust.anchors import TrustAnchors  # noqa: PLC0415

    try:
        TrustAnchors.from_pem_files(settings.trust_roots)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("configuration is valid")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
