"""Rate limits under a real ``authsvc serve``: gunicorn, two worker processes, real HTTP.

The counters must be shared by the workers, not kept in each: a limit of N then allows N
requests in all, however the requests spread, where per-worker counters would allow up to
2N. The workers' own write counts (``/proc/<pid>/io``; each request logs a line) show that
both of them answered. It runs on a temporary SQLite file, or on DATABASE_URL / REDIS_URL
when they are set, as in CI. Client addresses are simulated with X-Forwarded-For behind
TRUSTED_PROXIES=1; the only traffic is to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from authsvc.storage.db import create_db_engine
from tests.database import empty_tables
from tests.softauthn import SoftAuthenticator

pytestmark = pytest.mark.multiprocess

ATTACKER, PROBER, VICTIM = "192.0.2.66", "192.0.2.67", "198.51.100.7"
CEREMONY_LIMIT, ACCOUNT_LIMIT = 6, 3
START_TIMEOUT, REQUEST_TIMEOUT = 30.0, 5.0


@dataclass(frozen=True)
class Server:
    url: str
    origin: str
    process: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@dataclass
class Client:
    """A browser at one client address: its own cookies, one connection per request."""

    server: Server
    address: str
    jar: CookieJar = field(default_factory=CookieJar)

    def post(self, path: str, body: object) -> tuple[int, dict[str, Any], dict[str, str]]:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        request = urllib.request.Request(  # noqa: S310 - the URL is our own 127.0.0.1 server
            self.server.url + path,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Origin": self.server.origin,
                "X-Forwarded-For": self.address,
            },
            method="POST",
        )
        try:
            with opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, json.loads(response.read()), dict(response.headers)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read()), dict(error.headers)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"authsvc serve exited with {server.process.returncode}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200 and len(server.workers()) == 2:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("authsvc serve did not answer /healthz in time")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for this module (it takes seconds to start); each test has its addresses."""
    engine = create_db_engine(database_url)
    empty_tables(engine)  # the suite's database: start from empty tables and counters
    engine.dispose()
    port = _free_port()
    origin = f"http://localhost:{port}"
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ORIGINS": origin,
        "DATA_DIR": str(tmp_path_factory.mktemp("serve")),
        "DATABASE_URL": database_url,
        "REDIS_PREFIX": f"authsvc-test:{secrets.token_hex(6)}:",
        "SECRET_KEY": "gunicorn-test-secret-0123456789",
        "TRUSTED_PROXIES": "1",
        "RATE_LIMITS": "on",
        "RATE_LIMIT_CEREMONY": f"{CEREMONY_LIMIT}/minute",
        "RATE_LIMIT_ACCOUNT": f"{ACCOUNT_LIMIT}/minute",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "authsvc.cli", "serve", "--workers", "2", "--threads", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    served = Server(f"http://127.0.0.1:{port}", origin, process)
    try:
        _wait_until_up(served)
        yield served
    finally:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _writes(pids: list[int]) -> dict[int, int]:
    """Write system calls so far, per process (``syscw`` of ``/proc/<pid>/io``)."""
    counts: dict[int, int] = {}
    for pid in pids:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            name, _, value = line.partition(":")
            if name == "syscw":
                counts[pid] = int(value)
    return counts


def test_an_address_limit_holds_across_both_workers(server: Server) -> None:
    workers = server.workers()
    before = _writes(workers)
    attacker = Client(server, ATTACKER)
    answers = [attacker.post("/assertion/options", {}) for _ in range(4 * CEREMONY_LIMIT)]
    after = _writes(workers)
    statuses = [status for status, _, _ in answers]
    assert statuses == [200] * CEREMONY_LIMIT + [429] * (3 * CEREMONY_LIMIT)
    for _, body, headers in answers[CEREMONY_LIMIT:]:
        assert body["code"] == "rate_limited"
        assert body["status"] == "failed"
        assert headers["Retry-After"].isdigit() and int(headers["Retry-After"]) >= 1
    assert all(after[pid] > before[pid] for pid in workers), (before, after)
    # another address is not affected
    assert Client(server, VICTIM).post("/assertion/options", {})[0] == 200


def test_the_victim_signs_in_while_the_attacker_is_throttled(server: Server) -> None:
    auth = SoftAuthenticator()
    victim = Client(server, VICTIM)
    status, options, _ = victim.post(
        "/attestation/options", {"username": "victim-user", "displayName": "Victim"}
    )
    assert status == 200, options
    status, body, _ = victim.post("/attestation/result", auth.create(options, origin=server.origin))
    assert status == 200, body

    attacker = Client(server, PROBER)
    probes = [
        attacker.post("/assertion/options", {"username": "victim-user"})
        for _ in range(2 * ACCOUNT_LIMIT)
    ]
    assert [status for status, _, _ in probes] == [200] * ACCOUNT_LIMIT + [429] * ACCOUNT_LIMIT
    assert all(headers["Retry-After"].isdigit() for _, _, headers in probes[ACCOUNT_LIMIT:])

    status, options, _ = victim.post("/assertion/options", {"username": "victim-user"})
    assert status == 200, options
    status, body, _ = victim.post("/assertion/result", auth.get(options, origin=server.origin))
    assert status == 200, body
