"""Append audit events inside the caller's transaction (:func:`authsvc.audit.chain.query`
reads them back).

An event carries the same error ``code`` the caller got, whom it was about (user id,
credential id), who did it (``actor_user_id``, for admin actions) and where it came from
(origin, client address). ``detail`` is a small JSON object written by us; bytes in it are
stored as hex so raw input is never echoed verbatim. There is no foreign key to ``users``:
a record outlives the user it names.

Events are append-only and hash-chained (:mod:`authsvc.audit.chain`). An append locks the
chain's head row, so appends serialize on it from then until the caller commits (on SQLite
the whole transaction already does): append last. Its statements run through
:class:`Prepared`: select the head, then insert and move the head (one statement on
PostgreSQL, two on SQLite).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import (
    Connection,
    Integer,
    bindparam,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from authsvc.audit.chain import GENESIS_HASH, encode, link
from authsvc.storage.models import audit_events, audit_head
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
    "seq",
    "prev_hash",
    "hash",
    "actor_user_id",
)
_HEAD_ID: Final = literal_column("1", Integer())  # the one row; no bind, nothing to pass
# Every ceremony appends one: run through Prepared (see authsvc.storage.prepared).
_LOCK_HEAD: Final = Prepared(
    select(audit_head.c.seq, audit_head.c.hash)
    .where(audit_head.c.id == _HEAD_ID)
    .with_for_update()  # FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes
)
_MOVE_HEAD_STATEMENT: Final = (
    update(audit_head)
    .where(audit_head.c.id == _HEAD_ID)
    .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
)
_INSERT_STATEMENT: Final = insert(audit_events).values({c: bindparam(c) for c in _COLUMNS})
_INSERT: Final = Prepared(_INSERT_STATEMENT)
_MOVE_HEAD: Final = Prepared(_MOVE_HEAD_STATEMENT)
# PostgreSQL: insert and move in one round trip (a data-modifying WITH runs exactly once,
# read or not), so an append costs two round trips while it holds the head's lock.
_INSERT_AND_MOVE: Final = Prepared(_INSERT_STATEMENT.add_cte(_MOVE_HEAD_STATEMENT.cte("moved")))


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
    actor_user_id: int | None = None


def append(conn: Connection, event: AuditEvent, at: datetime) -> None:
    """Record ``event`` as of ``at`` (timezone-aware) at the end of the chain, in ``conn``'s
    transaction: lock the head, insert the event with its hash, move the head.

    Appends from other transactions wait for this one to commit or roll back. A rollback
    leaves neither the event nor a moved head.
    """
    head = _LOCK_HEAD.fetchone(conn, {})
    if head is None:
        head = _create_head(conn)
    seq = int(head[0]) + 1
    prev_hash = bytes(head[1])
    credential_id = None if event.credential_id is None else bytes(event.credential_id)
    detail = None if event.detail is None else _dump(event.detail)
    digest = link(
        prev_hash,
        encode(
            seq=seq,
            occurred_at=at,
            event=event.event,
            outcome=event.outcome,
            code=event.code,
            user_id=event.user_id,
            actor_user_id=event.actor_user_id,
            credential_id=credential_id,
            origin=event.origin,
            client_address=event.client_address,
            detail=detail,
        ),
    )
    values = {
        "occurred_at": at,
        "event": event.event,
        "outcome": event.outcome,
        "code": event.code,
        "user_id": event.user_id,
        "credential_id": credential_id,
        "origin": event.origin,
        "client_address": event.client_address,
        "detail": detail,
        "seq": seq,
        "prev_hash": prev_hash,
        "hash": digest,
        "actor_user_id": event.actor_user_id,
        "head_seq": seq,
        "head_hash": digest,
    }
    if conn.dialect.name == "postgresql":
        _INSERT_AND_MOVE.execute(conn, values)
        return
    _INSERT.execute(conn, values)
    if _MOVE_HEAD.rowcount(conn, values) != 1:  # pragma: no cover - we hold its lock
        raise RuntimeError("the audit head row vanished while locked")


def _create_head(conn: Connection) -> tuple[int, bytes]:
    """The head row is missing (a wiped table): start the chain again at seq 0, then lock it.

    Two transactions may get here at once; ON CONFLICT makes the second wait for the first
    and keep its row. If events remain without a head, the next insert fails on the unique
    ``seq`` (seq 1 is taken) rather than continuing a chain whose end is unknown.
    """
    values = {"id": 1, "seq": 0, "hash": GENESIS_HASH}
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(audit_head).values(values).on_conflict_do_nothing())
    elif conn.dialect.name == "sqlite":
        conn.execute(sqlite.insert(audit_head).values(values).on_conflict_do_nothing())
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        conn.execute(insert(audit_head).values(values))
    head = _LOCK_HEAD.fetchone(conn, {})
    if head is None:  # pragma: no cover - inserted just above or by the winner of a race
        raise RuntimeError("the audit head row could not be created")
    return int(head[0]), bytes(head[1])


def _dump(detail: Mapping[str, object]) -> str:
    return json.dumps(dict(detail), sort_keys=True, separators=(",", ":"), default=_jsonable)


def _jsonable(value: object) -> object:
    """Bytes as hex, sets sorted, anything else as its ``str``: an audit write must not fail."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)
