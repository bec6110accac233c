"""Building, reading and tampering with audit chains for the chain tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    select,
    text,
)

from authsvc.audit.chain import (
    ChainReport,
    encode,
    link,
    verify_chain,
)
from authsvc.audit.log import AuditEvent, append
from authsvc.storage.db import transaction as db_transaction
from authsvc.storage.models import audit_events, audit_head
from tests.storage.builders import T0

HASH_MISMATCH = "hash does not match its contents"


def event(i: int, **overrides: Any) -> AuditEvent:
    """Event number ``i``: every field filled, so each one can be edited."""
    fields: dict[str, Any] = {
        "event": "authentication",
        "outcome": "success" if i % 2 else "failure",
        "code": None if i % 2 else "sign_count_regressed",
        "user_id": 100 + i,
        "credential_id": bytes([i]) * 16,
        "origin": "https://example.com",
        "client_address": f"192.0.2.{i}",
        "detail": {"n": i, "aaguid": b"\x00" * 16, "note": "caf\u00e9 \u2603"},
        "actor_user_id": 7 if i == 3 else None,
    }
    fields.update(overrides)
    return AuditEvent(**fields)


def build_chain(engine: Engine, count: int = 5) -> dict[int, int]:
    """Append ``count`` events, one transaction each; return {seq: row id}."""
    for i in range(1, count + 1):
        with db_transaction(engine) as conn:
            append(conn, event(i), T0 + timedelta(seconds=i))
    return ids_by_seq(engine)


def ids_by_seq(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_events.c.seq, audit_events.c.id))
        return {int(row.seq): int(row.id) for row in rows}


def verify(engine: Engine) -> ChainReport:
    with db_transaction(engine) as conn:
        return verify_chain(conn)


def head(engine: Engine) -> tuple[int, bytes] | None:
    with engine.connect() as conn:
        row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    return None if row is None else (int(row.seq), bytes(row.hash))


def row_at(conn: Connection, seq: int) -> dict[str, Any]:
    row = conn.execute(select(audit_events).where(audit_events.c.seq == seq)).mappings().one()
    return dict(row)


def raw_update(conn: Connection, seq: int, column: str, value: object) -> None:
    """``UPDATE audit_events SET <column> = :value WHERE seq = :seq``, value bound by type."""
    statement = text(
        f"UPDATE audit_events SET {column} = :value WHERE seq = :seq"  # noqa: S608 - fixed names
    ).bindparams(bindparam("value", type_=audit_events.c[column].type))
    assert conn.execute(statement, {"value": value, "seq": seq}).rowcount == 1


def raw_insert(conn: Connection, values: dict[str, Any]) -> int:
    """A forged row, inserted with SQL rather than through append(); returns its id."""
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    statement = text(
        f"INSERT INTO audit_events ({names}) VALUES ({marks})"  # noqa: S608 - fixed names
    ).bindparams(*(bindparam(name, type_=audit_events.c[name].type) for name in values))
    conn.execute(statement, values)
    return int(
        conn.execute(
            select(audit_events.c.id).where(audit_events.c.seq == values["seq"])
        ).scalar_one()
    )


def forged(seq: int, prev_hash: bytes) -> dict[str, Any]:
    """A well-formed event at ``seq`` whose hash is computed as append() would."""
    values: dict[str, Any] = {
        "seq": seq,
        "occurred_at": T0 + timedelta(days=1),
        "event": "admin.credential_revoked",
        "outcome": "success",
        "code": None,
        "user_id": 1,
        "actor_user_id": 2,
        "credential_id": None,
        "origin": None,
        "client_address": None,
        "detail": None,
    }
    return {**values, "prev_hash": prev_hash, "hash": link(prev_hash, encode(**values))}


def assert_bad(report: ChainReport, seq: int, row_id: int | None, reason: str) -> None:
    assert (report.ok, report.first_bad_seq, report.first_bad_id, report.reason) == (
        False,
        seq,
        row_id,
        reason,
    )
