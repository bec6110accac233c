"""What the repositories hand out and take in: frozen values, not ORM objects.

A frozen record cannot lazy-load, expire or be changed behind the caller's back once the
transaction ends, and the ceremony code can use it without importing SQLAlchemy.
Datetimes are always timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRecord:
    id: int
    username: str
    display_name: str
    user_handle: bytes  # WebAuthn user.id
    created_at: datetime
    role: str = "user"
    group_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialRecord:
    """A stored passkey, with its user's handle for the assertion's userHandle check."""

    id: int
    credential_id: bytes
    user_id: int
    username: str
    user_handle: bytes
    public_key: bytes  # COSE_Key exactly as received at registration
    algorithm: int
    sign_count: int
    aaguid: bytes
    fmt: str
    attestation_type: str
    trust: str  # none / self / untrusted / trusted
    transports: tuple[str, ...]
    backup_eligible: bool
    backed_up: bool
    attachment: str | None
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    status: str
    aaguid_proven: bool = False
    attestation_key_id: str | None = None
    flagged_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInCredential:
    """What a sign-in reads of a credential: one indexed row, nothing it does not use."""

    id: int
    credential_id: bytes
    user_id: int
    username: str
    user_handle: bytes
    public_key: bytes
    sign_count: int
    backup_eligible: bool
    transports: tuple[str, ...]
    status: str
    # what the policy judges, and which policy: the user's group's current version
    aaguid: bytes
    aaguid_proven: bool
    attestation_key_id: str | None
    trust: str
    attachment: str | None
    algorithm: int
    policy_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCredential:
    """A verified registration, ready to store."""

    credential_id: bytes
    user_id: int
    public_key: bytes
    algorithm: int
    sign_count: int
    aaguid: bytes
    fmt: str
    attestation_type: str
    trust: str
    transports: tuple[str, ...]
    backup_eligible: bool
    backed_up: bool
    attachment: str | None
    name: str | None
    created_at: datetime
    aaguid_proven: bool = False
    attestation_key_id: str | None = None
