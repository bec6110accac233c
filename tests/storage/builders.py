"""Small builders for storage tests: valid values with only the interesting parts named."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from sqlalchemy import Connection

from authsvc.ceremony.state import CeremonyKind, PendingCeremony, ceremony_id, new_challenge
from authsvc.storage import repositories as repo
from authsvc.storage.records import NewCredential, UserRecord

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def make_user(conn: Connection, username: str = "alice") -> UserRecord:
    return repo.create_user(
        conn,
        username=username,
        display_name=username.title(),
        user_handle=secrets.token_bytes(32),
        created_at=T0,
    )


def new_credential(
    user_id: int,
    credential_id: bytes | None = None,
    *,
    sign_count: int = 0,
    transports: tuple[str, ...] = ("internal", "hybrid"),
) -> NewCredential:
    return NewCredential(
        credential_id=credential_id if credential_id is not None else secrets.token_bytes(32),
        user_id=user_id,
        public_key=bytes.fromhex("a5010203262001215820") + secrets.token_bytes(64),
        algorithm=-7,
        sign_count=sign_count,
        aaguid=bytes(range(16)),
        fmt="packed",
        attestation_type="basic",
        trust="trusted",
        transports=transports,
        backup_eligible=True,
        backed_up=False,
        attachment="platform",
        name="laptop",
        created_at=T0,
    )


def pending(*, expires_in: float = 300.0, now: float | None = None) -> PendingCeremony:
    start = time.time() if now is None else now
    binding = secrets.token_hex(32)
    return PendingCeremony(
        id=ceremony_id(CeremonyKind.AUTHENTICATION, binding),
        kind=CeremonyKind.AUTHENTICATION,
        challenge=new_challenge(),
        rp_id="localhost",
        user_verification="required",
        binding=binding,
        expires_at=start + expires_in,
        user_id=7,
        user_handle=secrets.token_bytes(32),
        username="alice",
        algorithms=(-7, -257),
        allowed_credentials=(b"\x01\x02", secrets.token_bytes(16)),
    )
