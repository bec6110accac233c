"""The audit hash chain: its canonical encoding, its verification, and reading it back.

Every event has a chain position ``seq`` (1, 2, 3, ... with no gaps) and

    hash = SHA-256(prev_hash || encoding of the event)

where ``prev_hash`` is the hash of event ``seq - 1`` (32 zero bytes for seq 1) and the
encoding is compact JSON of these eleven fields, keys sorted, UTF-8 (pure ASCII):

* ``seq``, ``user_id``, ``actor_user_id``: JSON integers, or ``null``;
* ``occurred_at``: ``"YYYY-MM-DDTHH:MM:SS.ffffffZ"``, UTC, always six fraction digits;
* ``credential_id``: lowercase hex, or ``null``;
* ``event``, ``outcome``, ``code``, ``origin``, ``client_address``: JSON strings, or ``null``;
* ``detail``: the stored JSON text itself *as a JSON string* (not re-parsed), or ``null``.

Strings use ``json.dumps`` escaping with ``ensure_ascii``: ``"`` and ``\\`` escaped, control
characters as ``\\n``, ``\\t``, ... or ``\\u00XX``, and every non-ASCII character as ``\\uXXXX``
(lowercase hex, UTF-16 surrogate pairs beyond the BMP), so the bytes depend only on the
values. For example (one line)::

    {"actor_user_id":null,"client_address":"192.0.2.1","code":null,"credential_id":"0102",
     "detail":"{\\"fmt\\":\\"none\\"}","event":"authentication","occurred_at":
     "2025-01-02T03:04:05.678901Z","origin":"https://example.com","outcome":"success",
     "seq":1,"user_id":2}

The row ``id`` is a storage surrogate and is not covered; ``seq`` is the record's identity.

The single ``audit_head`` row holds the last ``seq`` and ``hash``. ``append`` (in
:mod:`authsvc.audit.log`) moves it under a row lock in the same transaction as the insert,
so concurrent writers queue instead of forking (and ``seq`` is unique besides). A missing
head row means "nothing appended yet" (seq 0, zero hash).

The chain detects edits, deletions, reordering and insertions made without recomputing the
hashes that follow. SHA-256 has no key: someone with write access who recomputes the whole
chain and the head is caught only by comparing the head with a copy kept elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any, Final

from sqlalchemy import Connection, select

from authsvc.storage.models import audit_events, audit_head

GENESIS_HASH: Final = bytes(32)
BATCH_SIZE: Final = 1000
MAX_LIMIT: Final = 1000  # of query()

# What json.dumps(..., ensure_ascii=True) uses for strings (the C version where available);
# encode() spells out the sorted, compact object itself, which is several times faster than
# the general encoder on this hot path and gives the same bytes (a test compares the two).
_string: Final = encode_basestring_ascii


def timestamp(at: datetime) -> str:
    """``at`` as the encoding writes it: ISO-8601 UTC with microseconds and a ``Z``."""
    if at.tzinfo is not UTC:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("naive datetime; pass a timezone-aware one")
        at = at.astimezone(UTC)
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d}T"
        f"{at.hour:02d}:{at.minute:02d}:{at.second:02d}.{at.microsecond:06d}Z"
    )


def _text(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _number(value: int | None) -> str:
    if value is None:
        return "null"
    if type(value) is not int:  # a bool or an int subclass would not encode as its digits
        raise TypeError(f"expected an int, got {type(value).__name__}")
    return str(value)


def encode(
    *,
    seq: int,
    occurred_at: datetime,
    event: str,
    outcome: str,
    code: str | None,
    user_id: int | None,
    actor_user_id: int | None,
    credential_id: bytes | None,
    origin: str | None,
    client_address: str | None,
    detail: str | None,
) -> bytes:
    """The canonical bytes of one event (see the module docstring); keys in sorted order."""
    credential = "null" if credential_id is None else f'"{credential_id.hex()}"'
    return (
        f'{{"actor_user_id":{_number(actor_user_id)},'
        f'"client_address":{_text(client_address)},'
        f'"code":{_text(code)},'
        f'"credential_id":{credential},'
        f'"detail":{_text(detail)},'
        f'"event":{_string(event)},'
        f'"occurred_at":"{timestamp(occurred_at)}",'
        f'"origin":{_text(origin)},'
        f'"outcome":{_string(outcome)},'
        f'"seq":{_number(seq)},'
        f'"user_id":{_number(user_id)}}}'
    ).encode("ascii")


def link(prev_hash: bytes, encoded: bytes) -> bytes:
    """SHA-256(prev_hash || encoded): the hash of an event whose predecessor has ``prev_hash``."""
    return hashlib.sha256(prev_hash + encoded).digest()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """The outcome of :func:`verify_chain`.

    ``events`` counts the events that verified before the first problem (all of them when
    ``ok``). ``first_bad_seq``/``first_bad_id`` name the first event that fails; when events
    are missing at the tail there is no such row, so ``first_bad_seq`` is the first missing
    seq and ``first_bad_id`` is ``None``.
    """

    ok: bool
    events: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    reason: str | None = None


_HASHED: Final = (
    audit_events.c.id,
    audit_events.c.seq,
    audit_events.c.prev_hash,
    audit_events.c.hash,
    audit_events.c.occurred_at,
    audit_events.c.event,
    audit_events.c.outcome,
    audit_events.c.code,
    audit_events.c.user_id,
    audit_events.c.actor_user_id,
    audit_events.c.credential_id,
    audit_events.c.origin,
    audit_events.c.client_address,
    audit_events.c.detail,
)


def _batch(conn: Connection, after_seq: int | None) -> Sequence[Any]:
    query = select(*_HASHED).order_by(audit_events.c.seq).limit(BATCH_SIZE)
    if after_seq is not None:
        query = query.where(audit_events.c.seq > after_seq)
    return conn.execute(query).all()


def _head(conn: Connection) -> tuple[int, bytes]:
    row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    return (0, GENESIS_HASH) if row is None else (int(row.seq), bytes(row.hash))


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _check(row: Any, expected_seq: int, prev_hash: bytes) -> str | None:
    """Why ``row`` does not continue the chain at ``expected_seq`` after ``prev_hash``."""
    if row.seq > expected_seq:
        return f"sequence gap before seq {row.seq}"
    if row.seq != expected_seq:
        return f"seq {row.seq} is out of place: expected {expected_seq}"
    stored_prev = _bytes(row.prev_hash)
    encoded = encode(
        seq=row.seq,
        occurred_at=row.occurred_at,
        event=row.event,
        outcome=row.outcome,
        code=row.code,
        user_id=row.user_id,
        actor_user_id=row.actor_user_id,
        credential_id=_bytes(row.credential_id),
        origin=row.origin,
        client_address=row.client_address,
        detail=row.detail,
    )
    if stored_prev is None or _bytes(row.hash) != link(stored_prev, encoded):
        return "hash does not match its contents"
    if stored_prev != prev_hash:
        return f"prev_hash does not link to seq {expected_seq - 1}"
    return None


def verify_chain(conn: Connection) -> ChainReport:
    """Recompute the whole chain in seq order, in batches, and compare the head with its end.

    Stops at the first problem, in this order for each event: a gap in ``seq``, a hash that
    does not match the event's contents (an edit), a ``prev_hash`` that is not the previous
    event's hash (reordering, insertion); then the head against the last event (deletion or
    addition at the tail). Events appended while it runs extend the chain and are checked
    too, so it is safe beside live writers at READ COMMITTED. Read-only, but on SQLite the
    caller's transaction holds the write lock throughout (about 15 µs per event here), so
    sign-ins wait while a large log is verified.
    """
    count, last_seq, last_hash, last_id = 0, 0, GENESIS_HASH, None
    while True:
        rows = _batch(conn, last_seq if count else None)
        if not rows:
            # Read the head only now, then look once more: an append that committed in
            # between moved both, so a head beyond the events is then a real deletion.
            head_seq, head_hash = _head(conn)
            rows = _batch(conn, last_seq if count else None)
            if not rows:
                break
        for row in rows:
            reason = _check(row, last_seq + 1, last_hash)
            if reason is not None:
                return ChainReport(
                    ok=False,
                    events=count,
                    first_bad_seq=int(row.seq),
                    first_bad_id=int(row.id),
                    reason=reason,
                )
            count, last_seq, last_hash, last_id = count + 1, row.seq, bytes(row.hash), row.id
    if head_seq < last_seq:
        extra = conn.execute(
            select(audit_events.c.id).where(audit_events.c.seq == head_seq + 1)
        ).scalar_one_or_none()
        return ChainReport(
            ok=False,
            events=head_seq,
            first_bad_seq=head_seq + 1,
            first_bad_id=None if extra is None else int(extra),
            reason=f"head is at seq {head_seq} but the last event is {last_seq}",
        )
    if head_seq > last_seq:
        return ChainReport(
            ok=False,
            events=count,
            first_bad_seq=last_seq + 1,
            reason=f"head is at seq {head_seq} but the last event is {last_seq}",
        )
    if head_hash != last_hash:
        return ChainReport(
            ok=False,
            events=count,
            first_bad_seq=last_seq or None,
            first_bad_id=last_id,
            reason=f"head hash does not match seq {last_seq}",
        )
    return ChainReport(ok=True, events=count)


# what a query shows: every column but the chain's own hashes
_LISTED: Final = tuple(c for c in _HASHED if c.name not in {"prev_hash", "hash"})


def query(
    conn: Connection,
    *,
    user_id: int | None = None,
    event: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before_seq: int | None = None,
) -> list[dict[str, object]]:
    """Events newest first (by ``seq``), detail decoded: the admin API's audit listing.

    Filters combine: about ``user_id``, of kind ``event``, ``since <= occurred_at < until``.
    Pages by keyset: pass the last returned ``seq`` as ``before_seq`` for the next page.
    ``limit`` is 1 to :data:`MAX_LIMIT`.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    statement = select(*_LISTED).order_by(audit_events.c.seq.desc()).limit(limit)
    if user_id is not None:
        statement = statement.where(audit_events.c.user_id == user_id)
    if event is not None:
        statement = statement.where(audit_events.c.event == event)
    if since is not None:
        statement = statement.where(audit_events.c.occurred_at >= since)
    if until is not None:
        statement = statement.where(audit_events.c.occurred_at < until)
    if before_seq is not None:
        statement = statement.where(audit_events.c.seq < before_seq)
    events: list[dict[str, object]] = []
    for row in conn.execute(statement).mappings():
        record = dict(row)
        if record["credential_id"] is not None:
            record["credential_id"] = bytes(record["credential_id"])
        if record["detail"] is not None:
            record["detail"] = json.loads(record["detail"])
        events.append(record)
    return events
