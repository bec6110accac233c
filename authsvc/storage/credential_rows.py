"""The credential columns, listed once, and the one function that makes a record of a row.

Every read of a credential selects :data:`CREDENTIAL_COLUMNS` from :data:`CREDENTIALS` (the
credential, its user, the user's group for the policy id) and builds the
:class:`~authsvc.storage.records.CredentialRecord` with :func:`credential_record`; the
insert of a registration takes its values from :func:`new_credential_values`. A column
added to the record is added here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, Final

from sqlalchemy import ColumnElement, func

from authsvc.storage.models import credentials, groups, users
from authsvc.storage.policies import DEFAULT_GROUP_ID
from authsvc.storage.records import CredentialRecord, CredentialStatus, NewCredential, Trust


def dump_transports(transports: tuple[str, ...]) -> str:
    """The ``transports`` column: a JSON array of AuthenticatorTransport strings."""
    return json.dumps(list(transports), separators=(",", ":"))


def load_transports(raw: str) -> tuple[str, ...]:
    value = json.loads(raw)
    return tuple(item for item in value if isinstance(item, str))


_Convert = Callable[[Any], Any]

#: (record field, column, how the value read becomes the field's; None: as read)
_FIELDS: Final[tuple[tuple[str, ColumnElement[Any], _Convert | None], ...]] = (
    ("id", credentials.c.id, None),
    ("credential_id", credentials.c.credential_id, bytes),
    ("user_id", credentials.c.user_id, None),
    ("username", users.c.username, None),
    ("user_handle", users.c.user_handle, bytes),
    ("public_key", credentials.c.public_key, bytes),
    ("algorithm", credentials.c.algorithm, None),
    ("sign_count", credentials.c.sign_count, None),
    ("aaguid", credentials.c.aaguid, bytes),
    ("fmt", credentials.c.fmt, None),
    ("attestation_type", credentials.c.attestation_type, None),
    ("trust", credentials.c.trust, Trust),
    ("transports", credentials.c.transports, load_transports),
    ("backup_eligible", credentials.c.backup_eligible, bool),
    ("backed_up", credentials.c.backed_up, bool),
    ("attachment", credentials.c.attachment, None),
    ("name", credentials.c.name, None),
    ("created_at", credentials.c.created_at, None),
    ("last_used_at", credentials.c.last_used_at, None),
    ("status", credentials.c.status, CredentialStatus),
    ("aaguid_proven", credentials.c.aaguid_proven, bool),
    ("attestation_key_id", credentials.c.attestation_key_id, None),
    ("flagged_at", credentials.c.flagged_at, None),
    ("policy_id", groups.c.policy_id, None),
)
_NAMES: Final = tuple(name for name, _, _ in _FIELDS)
_CONVERT: Final = tuple(
    (index, convert) for index, (_, _, convert) in enumerate(_FIELDS) if convert is not None
)
if tuple(f.name for f in fields(CredentialRecord)) != _NAMES:  # pragma: no cover - at import
    raise RuntimeError("credential columns and CredentialRecord fields differ")

CREDENTIAL_COLUMNS: Final = tuple(column for _, column, _ in _FIELDS)
#: what a credential is read from: the credential, its user, the user's group
CREDENTIALS: Final = credentials.join(users, credentials.c.user_id == users.c.id).join(
    groups, groups.c.id == func.coalesce(users.c.group_id, DEFAULT_GROUP_ID)
)


def credential_record(row: Sequence[Any]) -> CredentialRecord:
    """The record of a row of :data:`CREDENTIAL_COLUMNS` (a SQLAlchemy row, or a typed
    :class:`~authsvc.storage.prepared.Prepared` row: both read values alike)."""
    values = list(row)
    for index, convert in _CONVERT:
        values[index] = convert(values[index])
    return CredentialRecord(**dict(zip(_NAMES, values, strict=True)))


def new_credential_values(new: NewCredential) -> dict[str, Any]:
    """The ``credentials`` row of a verified registration, stored active.

    Raises ValueError for a ``trust`` that is not one of :class:`Trust`'s values: a
    programming error, refused before anything is written.
    """
    values = {f.name: getattr(new, f.name) for f in fields(NewCredential)}
    values["trust"] = Trust(new.trust).value
    values["transports"] = dump_transports(new.transports)
    values["status"] = CredentialStatus.ACTIVE.value
    return values
