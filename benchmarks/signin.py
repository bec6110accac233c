"""Sign-in cost, measured in one run on one machine, as ratios to a floor.

The floor is a raw ES256 verification with ``cryptography`` (a key already loaded): no
sign-in can cost less. On the same real assertion (shared vector
``es256-dontneeda-authentication``) it times python-fido2's ``Fido2Server``, py_webauthn,
and our verification alone; then whole sign-ins (options + result, in-process through the
WSGI app, audit row and all) on SQLite and, when ``DATABASE_URL``/``REDIS_URL`` are set, on
PostgreSQL + Redis. Rate limits are on as deployed (the default limits' windows, each made
too large to reach, so every check is paid), then with one window per limit, then off: the
floor the limits add to. This prints numbers; it asserts nothing.

Run: ``make bench`` (or ``python -m benchmarks.signin``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import CoseKey
from fido2.server import Fido2Server
from fido2.webauthn import Aaguid, AttestedCredentialData, PublicKeyCredentialRpEntity
from flask import Flask
from limits import parse_many
from webauthn import verify_authentication_response

from authsvc import create_app
from authsvc.ceremony.authentication import StoredCredential, verify_authentication
from authsvc.ceremony.expectation import Expectation
from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.responses import assertion_response
from authsvc.encoding import b64url_decode, b64url_encode
from authsvc.settings import Settings
from authsvc.storage.db import create_db_engine, upgrade
from benchmarks.naive_peer import add_peer_credential, create_peer_app

VECTOR = "es256-dontneeda-authentication.json"
SHARED = Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


def per_call_us(fn: Callable[[], object], number: int, repeat: int = 5) -> float:
    """Best mean over ``repeat`` runs of ``number`` calls, in microseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


def load_vector() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SHARED / "vectors" / VECTOR).read_text())
    return data


def verification_rows(v: dict[str, Any], number: int) -> list[tuple[str, float]]:
    body = v["response"]
    stored = v["credential"]
    challenge = b64url_decode(v["challenge"], field="challenge")
    public_key = b64url_decode(stored["public_key"], field="public_key")
    decoded = cbor.decode(public_key)
    assert isinstance(decoded, dict)
    cose = CoseKey.parse(decoded)
    response = assertion_response(body)
    message = bytes(response.authenticator_data) + response.client_data.hash
    signature = response.signature
    key = ec.EllipticCurvePublicNumbers(
        int.from_bytes(cose[-2], "big"), int.from_bytes(cose[-3], "big"), ec.SECP256R1()
    ).public_key()
    algorithm = ec.ECDSA(hashes.SHA256())

    def floor() -> None:
        key.verify(signature, message, algorithm)

    server = Fido2Server(
        PublicKeyCredentialRpEntity(id=v["rp_id"], name="bench"),
        verify_origin=lambda origin: origin in v["origins"],
    )
    state = {"challenge": v["challenge"], "user_verification": None}
    credential = AttestedCredentialData.create(Aaguid.NONE, response.credential_id, cose)

    def fido2_server() -> None:
        server.authenticate_complete(state, [credential], body)

    def py_webauthn() -> None:
        verify_authentication_response(
            credential=body,
            expected_challenge=challenge,
            expected_rp_id=v["rp_id"],
            expected_origin=v["origins"],
            credential_public_key=public_key,
            credential_current_sign_count=stored["sign_count"],
        )

    expectation = Expectation(
        challenge=challenge,
        rp_id=v["rp_id"],
        origins=OriginPolicy.of(v["origins"]),
        user_verification=v["user_verification"],
    )
    ours_stored = StoredCredential(
        credential_id=response.credential_id,
        user_id=1,
        public_key=public_key,
        sign_count=stored["sign_count"],
        user_handle=None,
        backup_eligible=stored["backup_eligible"],
        active=True,
        kept=None,
    )

    def ours() -> None:
        verify_authentication(
            response=assertion_response(body),
            expected=expectation,
            allow_credentials=(),
            user_id=1,
            credential=ours_stored,
        )

    return [
        ("raw ES256 verify (floor)", per_call_us(floor, number)),
        ("python-fido2 Fido2Server.authenticate_complete", per_call_us(fido2_server, number)),
        ("py_webauthn verify_authentication_response", per_call_us(py_webauthn, number)),
        ("authsvc verification (parse + §7.2 checks)", per_call_us(ours, number)),
    ]


class WsgiClient:
    """Calls the WSGI app directly, as a server would, keeping the session cookie.

    Flask's test client builds requests through several layers of helpers that cost more
    than the service itself; a server hands the app a plain environ, and so does this.
    """

    def __init__(self, app: Flask, origin: str) -> None:
        self.app = app
        self.origin = origin
        self.cookie = ""

    def post(self, path: str, payload: object) -> tuple[int, Any]:
        body = json.dumps(payload).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SCRIPT_NAME": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "5000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_ORIGIN": self.origin,
            "HTTP_COOKIE": self.cookie,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        status: list[str] = []

        def start_response(
            line: str, headers: list[tuple[str, str]], _exc_info: object = None
        ) -> Callable[[bytes], object]:
            status.append(line)
            for name, value in headers:
                if name.lower() == "set-cookie" and value.startswith("session="):
                    self.cookie = value.split(";", 1)[0]
            return lambda _: None

        chunks = self.app(environ, start_response)
        data = b"".join(chunks)
        return int(status[0].split(" ", 1)[0]), json.loads(data)


def time_sign_ins(
    client: WsgiClient, auth: Any, username: str, number: int, repeat: int = 1
) -> float:
    """Mean µs of options + result for ``username``, authenticator time excluded.

    With ``repeat``, the best mean of that many rounds of ``number // repeat`` sign-ins, as
    :func:`per_call_us` does: other work on the machine only ever adds time. 50 sign-ins
    warm up first.
    """
    rounds = [0.0] * repeat
    per_round = max(1, number // repeat)
    for i in range(50 + per_round * repeat):
        start = time.perf_counter()
        _, options = client.post("/assertion/options", {"username": username})
        middle = time.perf_counter()
        body = auth.get(options, origin=client.origin)
        resumed = time.perf_counter()
        status, answer = client.post("/assertion/result", body)
        end = time.perf_counter()
        assert status == 200, answer
        if i >= 50:  # warm-up excluded
            rounds[(i - 50) // per_round] += (middle - start) + (end - resumed)
    return min(rounds) / per_round * 1e6


def register(client: WsgiClient, auth: Any, username: str) -> None:
    _, options = client.post("/attestation/options", {"username": username})
    status, answer = client.post("/attestation/result", auth.create(options, origin=client.origin))
    assert status == 200, answer


def signin_us(settings: Settings, number: int, *, rate_limits: bool = True) -> float:
    """Whole sign-ins through the WSGI app under the default policy."""
    from tests.softauthn import SoftAuthenticator  # noqa: PLC0415 - dev-only helper

    upgrade(settings.database_url)
    app = create_app(settings.with_changes(rate_limits=rate_limits))
    client = WsgiClient(app, settings.origins[0])
    auth = SoftAuthenticator()
    username = f"bench{time.time_ns()}"
    register(client, auth, username)
    result = time_sign_ins(client, auth, username, number, repeat=5)
    app.extensions["authsvc"].engine.dispose()
    return result


def peer_signin_us(database_url: str, number: int) -> float:
    """The same loop against the naive peer app (see benchmarks/naive_peer.py)."""
    from tests.softauthn import SoftAuthenticator  # noqa: PLC0415 - dev-only helper

    origin = "http://localhost:5000"
    app = create_peer_app(database_url, "localhost", origin)
    client = WsgiClient(app, origin)
    auth = SoftAuthenticator()
    fake_options = {
        "rp": {"id": "localhost", "name": "peer"},
        "user": {"id": b64url_encode(b"peer-user"), "name": "peer", "displayName": "peer"},
        "challenge": b64url_encode(b"\x00" * 32),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "discouraged"},
    }
    auth.create(fake_options, origin=origin)
    cred = auth.credentials[0]
    add_peer_credential(app, "peer", cred.credential_id, cbor.encode(cred.cose_key))
    return time_sign_ins(client, auth, "peer", number, repeat=5)


def round_trip_us(settings: Settings) -> float:
    """What one network round trip to the database costs here: sign-ins pay several."""
    engine = create_db_engine(settings.database_url)
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

        def ping() -> None:
            cursor.execute("SELECT 1")
            cursor.fetchone()

        result = per_call_us(ping, 500)
    engine.dispose()
    return result


_LIMITS = ("rate_limit_ceremony", "rate_limit_signup", "rate_limit_account", "rate_limit_passkeys")


def unreachable(value: str, windows: int | None = None) -> str:
    """``value``'s windows (the first ``windows`` of them), each allowing a million."""
    items = sorted(parse_many(value), key=lambda item: item.get_expiry())[:windows]
    return ";".join(f"1000000/{item.multiples} {item.GRANULARITY.name}" for item in items)


def limited(settings: Settings, windows: int | None = None) -> Settings:
    """``settings`` with the sign-in path's limits on, at their default windows, unreachable."""
    defaults = Settings()
    return settings.with_changes(
        rate_limits=True,
        **{name: unreachable(getattr(defaults, name), windows) for name in _LIMITS},
    )


def main() -> None:
    number = int(os.environ.get("BENCH_N", "2000"))
    v = load_vector()
    rows = verification_rows(v, number)
    floor = rows[0][1]
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = Settings(
            origins=("http://localhost:5000",),
            database_url=f"sqlite:///{tmp}/bench.db",
            secret_key="benchmark-secret-key-0123456789",
        )
        stores = [("SQLite", sqlite)]
        if os.environ.get("DATABASE_URL"):
            pg = sqlite.with_changes(
                database_url=os.environ["DATABASE_URL"],
                redis_url=os.environ.get("REDIS_URL") or None,
                redis_prefix="authsvc-bench:",
            )
            stores.append(("PostgreSQL + Redis" if pg.redis_url else "PostgreSQL", pg))
        for label, store in stores:
            name = f"whole sign-in via WSGI, {label}"
            rows.append((name, signin_us(limited(store), number // 4)))
            rows.append((f"{name}, one window a limit", signin_us(limited(store, 1), number // 4)))
            rows.append(
                (f"{name}, rate limits off", signin_us(store, number // 4, rate_limits=False))
            )
            if label == "SQLite":
                rows.append(
                    (
                        "naive peer sign-in (Flask+ORM+py_webauthn), SQLite",
                        peer_signin_us(f"sqlite:///{tmp}/peer.db", number // 4),
                    )
                )
        if len(stores) > 1:
            rows.append(("one PostgreSQL round trip (SELECT 1), for scale", round_trip_us(pg)))
    defaults = Settings()
    windows = ", ".join(
        f"{name.removeprefix('rate_limit_')} {getattr(defaults, name)}" for name in _LIMITS
    )
    print(f"{'measurement':<64} {'µs/op':>9} {'ops/s':>9} {'x floor':>8}")
    for name, us in rows:
        print(f"{name:<64} {us:>9.1f} {1e6 / us:>9.0f} {us / floor:>8.2f}")
    digest = hashlib.sha256(json.dumps(v["response"]).encode()).hexdigest()[:12]
    print(f"(assertion {VECTOR}, sha256 {digest}; {number} calls per measurement)")
    print(f"(rate limits on: the windows of {windows}; each allowing a million)")


if __name__ == "__main__":
    main()
