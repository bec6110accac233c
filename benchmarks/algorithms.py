"""What each credential algorithm costs at sign-in, against the ES256 floor of the same run.

For every algorithm in ``authsvc.algorithms`` it times, on a freshly made key: the raw
``cryptography`` verification, and our cached verifier on the same message (what a sign-in
calls). Then whole sign-ins (options + result through the WSGI app, on SQLite) with an ES256
and an ML-DSA-44 credential, and the size of the assertion each sends. Ratios are to the
raw ES256 verification. This prints numbers; it asserts nothing.

Run: ``make bench`` (or ``python -m benchmarks.algorithms``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from fido2 import cbor

from authsvc import algorithms, create_app
from authsvc.ceremony.keys import verifier_for
from authsvc.settings import Settings
from authsvc.storage.db import upgrade
from benchmarks.signin import WsgiClient, per_call_us, register, time_sign_ins
from tests.softauthn import SoftAuthenticator
from tests.softauthn.keys import Alg, PrivateKey, generate_key, public_cose_key, sign_message

#: a sign-in's message: 37 bytes of authenticator data and a 32-byte client data hash
MESSAGE = bytes(69)


def raw_verify(key: PrivateKey, alg: Alg, signature: bytes) -> Callable[[], None]:
    """The bare cryptography call for ``alg``: the least any verifier can cost."""
    public = key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        ecdsa = ec.ECDSA({-7: hashes.SHA256(), -35: hashes.SHA384()}.get(alg, hashes.SHA512()))
        return lambda: public.verify(signature, MESSAGE, ecdsa)
    if isinstance(public, rsa.RSAPublicKey):
        sha = hashes.SHA256()
        pad = padding.PKCS1v15() if alg is Alg.RS256 else padding.PSS(padding.MGF1(sha), 32)
        return lambda: public.verify(signature, MESSAGE, pad, sha)
    return lambda: public.verify(signature, MESSAGE)


def verification_rows(number: int) -> list[tuple[str, float, float, int]]:
    """(label, raw µs, ours µs, signature bytes) for every supported algorithm."""
    rows = []
    for alg in sorted(Alg, key=algorithms.SUPPORTED.index):
        key = generate_key(alg)
        signature = sign_message(key, alg, MESSAGE)
        verifier = verifier_for(cbor.encode(public_cose_key(key, alg)))
        raw = per_call_us(raw_verify(key, alg, signature), number)
        ours = per_call_us(partial(verifier, MESSAGE, signature), number)
        rows.append((algorithms.name_of(alg), raw, ours, len(signature)))
    return rows


def signin_rows(tmp: str, number: int) -> list[tuple[str, float, int]]:
    """(label, µs per whole sign-in, assertion JSON bytes) for ES256 and ML-DSA-44."""
    settings = Settings(
        origins=("http://localhost:5000",),
        database_url=f"sqlite:///{tmp}/algorithms.db",
        secret_key="benchmark-secret-key-0123456789",
        algorithms=(algorithms.ES256, algorithms.ML_DSA_44),
        rate_limits=False,  # thousands of sign-ins from one address; signin.py times limits
    )
    upgrade(settings.database_url)
    app = create_app(settings)
    client = WsgiClient(app, settings.origins[0])
    rows = []
    for alg in (Alg.ES256, Alg.ML_DSA_44):
        auth = SoftAuthenticator(alg=alg)
        username = f"bench-{alg.name.lower()}-{time.time_ns()}"
        register(client, auth, username)
        _, options = client.post("/assertion/options", {"username": username})
        size = len(json.dumps(auth.get(options, origin=client.origin)))
        cost = time_sign_ins(client, auth, username, number)
        rows.append((f"whole sign-in via WSGI, SQLite, {algorithms.name_of(alg)}", cost, size))
    app.extensions["authsvc"].engine.dispose()
    return rows


def main() -> None:
    number = int(os.environ.get("BENCH_N", "2000"))
    rows = verification_rows(number)
    floor = rows[0][1]  # raw ES256
    print(f"{'algorithm':<10} {'raw µs':>8} {'ours µs':>8} {'x ES256':>8} {'sig bytes':>9}")
    for name, raw, ours, size in rows:
        print(f"{name:<10} {raw:>8.1f} {ours:>8.1f} {ours / floor:>8.2f} {size:>9}")
    with tempfile.TemporaryDirectory() as tmp:
        whole = signin_rows(tmp, number // 4)
    print(f"\n{'measurement':<46} {'µs/op':>9} {'x floor':>8} {'body bytes':>10}")
    for label, us, size in whole:
        print(f"{label:<46} {us:>9.1f} {us / floor:>8.2f} {size:>10}")
    print(f"(floor: raw ES256 verify, {floor:.1f} µs; {number} calls per verification row)")


if __name__ == "__main__":
    main()
