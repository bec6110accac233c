"""The service as a browser meets it: a real HTTP server on a free localhost port.

werkzeug's threaded server runs ``create_app`` in this process, so a test can reach the
same services (and database) the pages use, e.g. to tighten a policy between two clicks.
The origin is ``http://localhost:<port>``: a secure context for WebAuthn without TLS, with
RP ID ``localhost``, exactly what a developer's ``make run`` serves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from authsvc import create_app
from authsvc.services.context import Services
from authsvc.settings import Settings
from tests.http.flows import advance_clock


@dataclass(frozen=True)
class LiveServer:
    origin: str
    app: Flask

    @property
    def services(self) -> Services:
        found: Services = self.app.extensions["authsvc"]
        return found


def _placeholder(environ: object, start_response: object) -> list[bytes]:
    raise RuntimeError("the server answers only once create_app has run")  # pragma: no cover


@contextmanager
def serve(settings: Settings) -> Iterator[LiveServer]:
    """Bind a free port first, then build the app for the origin that port makes."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, _placeholder, threaded=True)
    origin = f"http://localhost:{server.server_port}"
    app = create_app(settings.with_changes(origins=(origin,)))
    server.app = app
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(origin, app)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        app.extensions["authsvc"].engine.dispose()


@contextmanager
def later(server: LiveServer, seconds: float) -> Iterator[None]:
    """Move the live service's clock forward for a while (a step-up ages, sessions live on)."""
    before = server.app.extensions["authsvc"]
    advance_clock(server.app, seconds)
    try:
        yield
    finally:
        server.app.extensions["authsvc"] = before
