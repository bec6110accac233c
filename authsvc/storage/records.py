"""What the repositories hand out and take in: frozen values and the enums they hold.

A frozen record cannot lazy-load, expire or be changed behind the caller's back once the
transaction ends, and the ceremony code can use it without importing SQLAlchemy.
Datetimes are always timezone-aware UTC.

Statuses, roles and trust results are :class:`~enum.StrEnum` members stored by value, so
the columns stay plain strings (no migration) and a member compares equal to its value
(``CredentialStatus.ACTIVE == "active"``): code that compares with the string keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum, unique
from typing import Final


@unique
class CredentialStatus(StrEnum):
    """Whether a passkey may sign in: ``locked`` is what a sign-count regression under a
    "lock" policy leaves; only an admin sets ``disabled`` or moves either back."""

    ACTIVE = "active"
    DISABLED = "disabled"
    LOCKED = "locked"


@unique
class UserStatus(StrEnum):
    """A disabled user cannot sign in and keeps no live session."""

    ACTIVE = "active"
    DISABLED = "disabled"


@unique
class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


@unique
class Trust(StrEnum):
    """What a registration's attestation established: no statement, a self-signed one, a
    chain to no configured root, or a chain to one (the only value that proves the AAGUID)."""

    NONE = "none"
    SELF = "self"
    UNTRUSTED = "untrusted"
    TRUSTED = "trusted"


#: the values each column accepts, as plain strings (JSON schemas, input checks)
CREDENTIAL_STATUSES: Final = frozenset(s.value for s in CredentialStatus)
USER_STATUSES: Final = frozenset(s.value for s in UserStatus)
ROLES: Final = frozenset(r.value for r in Role)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRecord:
    id: int
    username: str
    display_name: str
    user_handle: bytes  # WebAuthn user.id
    created_at: datetime
    role: Role = Role.USER
    group_id: int | None = None
    status: UserStatus = UserStatus.ACTIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialRecord:
    """A stored passkey with what a sign-in needs of its user: the handle for the
    assertion's userHandle check, and the policy of the user's group (its current version).

    Every read of a credential (sign-in, account page, admin API) returns this one shape,
    built by :func:`authsvc.storage.credential_rows.credential_record`.
    """

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
    trust: Trust
    transports: tuple[str, ...]
    backup_eligible: bool
    backed_up: bool
    attachment: str | None
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    status: CredentialStatus
    aaguid_proven: bool
    attestation_key_id: str | None
    flagged_at: datetime | None
    policy_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCredential:
    """A verified registration, ready to store (always stored ``active``).

    ``trust`` is one of :class:`Trust`'s values (a plain string is accepted from the
    ceremony code and checked when stored).
    """

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
