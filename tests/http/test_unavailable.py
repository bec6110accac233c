"""A backing store that is down gives 503 `unavailable`, never a 500 or a half-write."""

from __future__ import annotations

from authsvc import create_app
from authsvc.settings import Settings
from tests.http.flows import Browser, problem


def test_redis_down(settings: Settings) -> None:
    app = create_app(settings.with_changes(redis_url="redis://127.0.0.1:1/0"))
    problem(Browser(app.test_client()).post("/assertion/options", {}), "unavailable", 503)


def test_database_down(settings: Settings) -> None:
    app = create_app(
        settings.with_changes(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    )
    response = Browser(app.test_client()).post("/attestation/options", {"username": "ada"})
    problem(response, "unavailable", 503)
