"""Append audit events inside the caller's transaction; read them back for tests and admins.

An event carries the same error ``code`` the caller got, who it was about (user id,
credential id) and where it came from (origin, client address). ``detail`` is a small JSON
object written by us; bytes in it are stored as hex so raw input is never echoed verbatim.
There is no foreign key to ``users``: a record outlives the user it names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, bindparam, insert, select

from authsvc.storage.models import audit_events
from authsvc.storage.prepared import Prepared

_COLUMNS: Final = (
    "occurred_at",
    "event",
    "outcome",
    "code",
    "user_id",
    "credential_id",
    "origin",
    "client_address",
    "detail",
)
# Every ceremony appends one: run through Prepared (see authsvc.storage.prepared).
_INSERT: Final = Prepared(insert(audit_events).values({c: bindparam(c) for c in _COLUMNS}))


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened: ``event`` ("registration", ...) and ``outcome`` ("success"/"failure")."""

    event: str
    outcome: str
    code: str | None = None
    user_id: int | None = None
    credential_id: bytes | None = None
    origin: str | None = None
    client_address: str | None = None
    detail: Mapping[str, object] | None = None


def append(conn: Connection, event: AuditEvent, at: datetime) -> None:
    """Record ``event`` as of ``at`` (timezone-aware) with one INSERT in ``conn``'s transaction."""
    _INSERT.execute(
        conn,
        {
            "occurred_at": at,
            "event": event.event,
            "outcome": event.outcome,
            "code": event.code,
            "user_id": event.user_id,
            "credential_id": event.credential_id,
            "origin": event.origin,
            "client_address": event.client_address,
            "detail": None if event.detail is None else _dump(event.detail),
        },
    )


def recent(
    conn: Connection, *, limit: int = 100, user_id: int | None = None
) -> list[dict[str, object]]:
    """The newest events first, optionally only those about ``user_id``; detail decoded."""
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(audit_events.c.user_id == user_id)
    events: list[dict[str, object]] = []
    for row in conn.execute(query).mappings():
        event = dict(row)
        if event["credential_id"] is not None:
            event["credential_id"] = bytes(event["credential_id"])
        if event["detail"] is not None:
            event["detail"] = json.loads(event["detail"])
        events.append(event)
    return events


def _dump(detail: Mapping[str, object]) -> str:
    return json.dumps(dict(detail), sort_keys=True, separators=(",", ":"), default=_jsonable)


def _jsonable(value: object) -> object:
    """Bytes as hex, sets sorted, anything else as its ``str``: an audit write must not fail."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)
