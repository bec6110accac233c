"""Replays and races: a challenge is consumed exactly once, on one instance or several.

On PostgreSQL + Redis (CI's second run) the same tests exercise ``GETDEL`` and PostgreSQL
row locking instead of SQLite's single writer.
"""

from __future__ import annotations

import threading
from collections import Counter

from flask import Flask
from flask.testing import FlaskClient

from authsvc import create_app
from tests.http.flows import Browser, audit_rows, problem, services
from tests.softauthn import SoftAuthenticator

THREADS = 8


def test_the_same_assertion_twice_fails_the_second_time(client: FlaskClient) -> None:
    auth = SoftAuthenticator()
    browser = Browser(client)
    browser.register(auth, "ada")
    body = auth.get(browser.assertion_options("ada"), origin=browser.origin)
    assert browser.post("/assertion/result", body).status_code == 200
    problem(browser.post("/assertion/result", body), "challenge_unknown")


def _race(app: Flask, cookie: str, body: dict[str, object]) -> Counter[int]:
    """Post ``body`` from THREADS clients sharing one session cookie, all at once."""
    barrier = threading.Barrier(THREADS)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def post() -> None:
        client = app.test_client()
        client.set_cookie("session", cookie, domain="localhost")
        barrier.wait()
        status = client.post("/assertion/result", json=body).status_code
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_the_same_assertion_from_eight_threads_succeeds_once(
    app: Flask, client: FlaskClient
) -> None:
    auth = SoftAuthenticator()
    browser = Browser(client)
    browser.register(auth, "ada")
    body = auth.get(browser.assertion_options("ada"), origin=browser.origin)
    cookie = client.get_cookie("session")
    assert cookie is not None
    statuses = _race(app, cookie.value, body)
    assert statuses == Counter({200: 1, 400: THREADS - 1})
    outcomes = Counter(
        e["outcome"] for e in audit_rows(services(app).engine) if e["event"] == "authentication"
    )
    assert outcomes == Counter({"success": 1, "failure": THREADS - 1})


def test_two_instances_sharing_storage_accept_a_challenge_once(
    app: Flask, client: FlaskClient
) -> None:
    """A second app (another instance: own engine, own challenge store) on the same stores."""
    other = create_app(services(app).settings)
    auth = SoftAuthenticator()
    browser = Browser(client)
    browser.register(auth, "ada")
    body = auth.get(browser.assertion_options("ada"), origin=browser.origin)
    cookie = client.get_cookie("session")
    assert cookie is not None
    results = Counter[int]()
    barrier = threading.Barrier(2)

    def post(target: Flask) -> None:
        c = target.test_client()
        c.set_cookie("session", cookie.value, domain="localhost")
        barrier.wait()
        results[c.post("/assertion/result", json=body).status_code] += 1

    threads = [threading.Thread(target=post, args=(a,)) for a in (app, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == Counter({200: 1, 400: 1})
    services(other).engine.dispose()
