"""authsvc: a strict WebAuthn relying party. ``create_app()`` is the only entry point here.

Nothing runs at import time: the CLI, gunicorn (``authsvc.wsgi:app``), the tests and the
benchmarks each build the app from a :class:`~authsvc.settings.Settings`.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from authsvc.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app; ``settings`` default to the environment."""
    from authsvc.services.context import Services  # noqa: PLC0415 - keep import time light
    from authsvc.web import (  # noqa: PLC0415
        account,
        admin,
        admin_accounts,
        admin_pages,
        admin_records,
        api_ceremonies,
        app_clients,
        conformance,
        guards,
        health,
        limits,
        oauth,
        openapi,
        pages,
        problems,
        recovery,
        registration_tokens,
        sessions,
        tokens,
        well_known,
    )

    settings = settings or Settings.from_env()
    # no Flask static folder: /static/ is authsvc.web.pages' route over webauthn_js/
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    app.extensions["authsvc"] = Services.build(settings)
    guards.init(app)  # first: its before_request hook must run before every other one
    sessions.init(app)
    tokens.init(app)
    problems.register(app)
    # after the guard: a request it refuses (cross-site) must not count against a limit
    limits.init(app)
    app.register_blueprint(conformance.bp)
    app.register_blueprint(api_ceremonies.bp)
    app.register_blueprint(registration_tokens.bp)
    app.register_blueprint(registration_tokens.admin_bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_accounts.bp)
    app.register_blueprint(admin_records.bp)
    app.register_blueprint(app_clients.bp)
    app.register_blueprint(app_clients.well_known_bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(recovery.bp)
    app.register_blueprint(recovery.admin_bp)
    app.register_blueprint(well_known.bp)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(admin_pages.bp)
    return app
