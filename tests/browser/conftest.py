"""Fixtures of the browser tests: one live server and one Chromium per run, a fresh context
(cookies, storage, authenticators) per person in each test, and empty tables per test.

The server uses the run's database (a temporary SQLite file, or DATABASE_URL / REDIS_URL in
CI, reset by tests/conftest.py), so the pages are tested on both databases.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from authsvc.settings import Settings
from tests.browser.chromium import ARGS, CHROMIUM, DESKTOP, Person
from tests.browser.live import LiveServer, serve
from tests.database import empty_tables

OpenPerson = Callable[..., Person]


@pytest.fixture(scope="session")
def live_server(
    database_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = Settings(
        rp_id="localhost",
        rp_name="authsvc",
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        redis_prefix=redis_prefix,
        secret_key="browser-test-secret-key-0123456789",
        rate_limits=False,  # every person here comes from 127.0.0.1
    )
    with serve(settings) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    # launch() gives the browser a fresh temporary profile (user data dir) of its own
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(ARGS))
    yield browser
    browser.close()


@pytest.fixture
def server(live_server: LiveServer) -> LiveServer:
    empty_tables(live_server.services.engine)
    return live_server


@pytest.fixture
def open_person(chromium: Browser, server: LiveServer) -> Iterator[OpenPerson]:
    """Open a person's browser; at the end, none of them may have logged an error (CSP too)."""
    people: list[Person] = []

    def open_one(*, bypass_csp: bool = False) -> Person:
        context = chromium.new_context(viewport=DESKTOP, bypass_csp=bypass_csp)
        context.set_default_timeout(10_000)
        person = Person.open(context, server.origin)
        people.append(person)
        return person

    yield open_one
    problems = [p for person in people for p in person.problems]
    for person in people:
        person.context.close()
    assert problems == []


@pytest.fixture
def person(open_person: OpenPerson) -> Person:
    return open_person()
