"""A backing store that is down gives 503 `unavailable`, never a 500 or a half-write."""

from __future__ import annotations

from flask.testing import FlaskClient

from authsvc import create_app
from authsvc.settings import Settings
from tests.http.flows import Browser, problem


def test_health_check_answers_when_the_stores_do(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json is not None and response.json["status"] == "ok"


def test_redis_down(settings: Settings) -> None:
    app = create_app(settings.with_changes(redis_url="redis://127.0.0.1:1/0"))
    problem(Browser(app.test_client()).post("/assertion/options", {}), "unavailable", 503)
    problem(app.test_client().get("/healthz"), "unavailable", 503)


def test_database_down(settings: Settings) -> None:
    app = create_app(
        settings.with_changes(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    )
    response = Browser(app.test_client()).post("/attestation/options", {"username": "ada"})
    problem(response, "unavailable", 503)
    problem(app.test_client().get("/healthz"), "unavailable", 503)
