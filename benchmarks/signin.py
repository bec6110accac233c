"""Sign-in cost, measured in one run on one machine, as ratios to a floor.

The floor is a raw ES256 verification with ``cryptography`` (a key already loaded): no
sign-in can cost less. On the same real assertion (shared vector
``es256-dontneeda-authentication``) it times python-fido2's ``Fido2Server``, py_webauthn,
and our verification alone; then whole sign-ins (options + result, in-process through the
WSGI app, audit row and all) on SQLite and, when ``DATABASE_URL``/``REDIS_URL`` are set, on
PostgreSQL + Redis. This prints numbers; it asserts nothing.

Run: ``make bench`` (or ``python -m benchmarks.signin``).
"""

from __future__ import annotations

import hashlib
import json
import os
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
from webauthn import verify_authentication_response

from authsvc import create_app
from authsvc.ceremony.authentication import StoredCredential, verify_assertion
from authsvc.ceremony.checks import Expectation
from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.responses import assertion_response
from authsvc.encoding import b64url_decode
from authsvc.settings import Settings
from authsvc.storage.db import upgrade

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
    cose = CoseKey.parse(cbor.decode(public_key))
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
        public_key=public_key,
        sign_count=stored["sign_count"],
        user_handle=None,
        backup_eligible=stored["backup_eligible"],
    )

    def ours() -> None:
        verify_assertion(assertion_response(body), expectation, ours_stored, user_identified=True)

    return [
        ("raw ES256 verify (floor)", per_call_us(floor, number)),
        ("python-fido2 Fido2Server.authenticate_complete", per_call_us(fido2_server, number)),
        ("py_webauthn verify_authentication_response", per_call_us(py_webauthn, number)),
        ("authsvc verification (parse + §7.2 checks)", per_call_us(ours, number)),
    ]


def signin_us(settings: Settings, number: int) -> float:
    """Mean wall time of options + result through the WSGI app, authenticator time excluded."""
    from tests.softauthn import SoftAuthenticator  # noqa: PLC0415 - dev-only helper

    upgrade(settings.database_url)
    app = create_app(settings)
    client = app.test_client()
    origin = settings.origins[0]
    auth = SoftAuthenticator()
    options = client.post("/attestation/options", json={"username": f"bench{time.time_ns()}"})
    created = auth.create(options.json or {}, origin=origin)
    assert client.post("/attestation/result", json=created).status_code == 200
    username = (options.json or {})["user"]["name"]
    spent = 0.0
    for i in range(number + 50):
        start = time.perf_counter()
        options = client.post("/assertion/options", json={"username": username})
        middle = time.perf_counter()
        body = auth.get(options.json or {}, origin=origin)
        resumed = time.perf_counter()
        status = client.post("/assertion/result", json=body).status_code
        end = time.perf_counter()
        assert status == 200, status
        if i >= 50:  # warm-up excluded
            spent += (middle - start) + (end - resumed)
    app.extensions["authsvc"].engine.dispose()
    return spent / number * 1e6


def main() -> None:
    number = int(os.environ.get("BENCH_N", "2000"))
    v = load_vector()
    rows = verification_rows(v, number)
    floor = rows[0][1]
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(
            origins=("http://localhost:5000",),
            database_url=f"sqlite:///{tmp}/bench.db",
            secret_key="benchmark-secret-key-0123456789",
        )
        rows.append(("whole sign-in via WSGI, SQLite", signin_us(base, number // 4)))
        if os.environ.get("DATABASE_URL"):
            pg = base.with_changes(
                database_url=os.environ["DATABASE_URL"],
                redis_url=os.environ.get("REDIS_URL") or None,
                redis_prefix="authsvc-bench:",
            )
            label = "PostgreSQL + Redis" if pg.redis_url else "PostgreSQL"
            rows.append((f"whole sign-in via WSGI, {label}", signin_us(pg, number // 4)))
    print(f"{'measurement':<52} {'µs/op':>9} {'ops/s':>9} {'x floor':>8}")
    for name, us in rows:
        print(f"{name:<52} {us:>9.1f} {1e6 / us:>9.0f} {us / floor:>8.2f}")
    digest = hashlib.sha256(json.dumps(v["response"]).encode()).hexdigest()[:12]
    print(f"(assertion {VECTOR}, sha256 {digest}; {number} calls per measurement)")


if __name__ == "__main__":
    main()
