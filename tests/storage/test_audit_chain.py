"""The audit chain: appends link up, tampering is found at the right event, writers never fork.

Tampering is done the way an intruder with database access would: raw SQL on the tables,
bypassing :func:`append`. Each case builds the same five-event chain and names the first
bad seq that :func:`verify_chain` must report.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from alembic import command
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Engine,
    Integer,
    LargeBinary,
    String,
    Text,
    bindparam,
    inspect,
    make_url,
    select,
    text,
)

from authsvc.audit import chain
from authsvc.audit.chain import (
    GENESIS_HASH,
    MAX_LIMIT,
    ChainReport,
    encode,
    link,
    query,
)
from authsvc.audit.log import append
from authsvc.storage.db import alembic_config, create_db_engine, upgrade
from authsvc.storage.db import transaction as db_transaction
from authsvc.storage.models import UTCDateTime, audit_events, audit_head
from tests.storage.audit_chains import (
    HASH_MISMATCH,
    assert_bad,
    build_chain,
    event,
    head,
    ids_by_seq,
    raw_update,
    row_at,
    verify,
)
from tests.storage.builders import T0

# -- a clean chain ---------------------------------------------------------------------


def test_empty_chain_verifies_with_or_without_its_head_row(engine: Engine) -> None:
    assert head(engine) is None  # the fixture empties every table, audit_head included
    assert verify(engine) == ChainReport(ok=True, events=0)
    with db_transaction(engine) as conn:
        conn.execute(audit_head.insert().values(id=1, seq=0, hash=GENESIS_HASH))
    assert verify(engine) == ChainReport(ok=True, events=0)


def test_appends_link_up_and_move_the_head(engine: Engine) -> None:
    ids = build_chain(engine)
    assert sorted(ids) == [1, 2, 3, 4, 5]
    assert verify(engine) == ChainReport(ok=True, events=5)
    with engine.connect() as conn:
        rows = [row_at(conn, seq) for seq in range(1, 6)]
    prev = GENESIS_HASH
    for row in rows:
        assert row["prev_hash"] == prev
        assert len(row["hash"]) == 32
        prev = row["hash"]
    assert head(engine) == (5, prev)
    assert rows[2]["actor_user_id"] == 7


def test_many_events_verify_across_batches(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "BATCH_SIZE", 3)
    with db_transaction(engine) as conn:
        for i in range(1, 11):
            append(conn, event(i), T0)
    assert verify(engine) == ChainReport(ok=True, events=10)
    ids = ids_by_seq(engine)
    with db_transaction(engine) as conn:
        raw_update(conn, 8, "user_id", 9999)
    assert_bad(verify(engine), 8, ids[8], HASH_MISMATCH)


def test_encoding_is_pinned() -> None:
    """The documented encoding, byte for byte: changing it would break every stored chain."""
    encoded = encode(
        seq=1,
        occurred_at=T0,
        event="authentication",
        outcome="success",
        code=None,
        user_id=2,
        actor_user_id=None,
        credential_id=b"\x01\x02",
        origin="https://example.com",
        client_address="192.0.2.1",
        detail='{"fmt":"none","note":"caf\u00e9"}',
    )
    assert encoded == (
        b'{"actor_user_id":null,"client_address":"192.0.2.1","code":null,'
        b'"credential_id":"0102","detail":"{\\"fmt\\":\\"none\\",\\"note\\":\\"caf\\u00e9\\"}",'
        b'"event":"authentication","occurred_at":"2025-01-02T03:04:05.678901Z",'
        b'"origin":"https://example.com","outcome":"success","seq":1,"user_id":2}'
    )
    assert link(GENESIS_HASH, encoded) == hashlib.sha256(bytes(32) + encoded).digest()


def reference_encoding(**fields: Any) -> bytes:
    """The encoding as documented, through the general JSON encoder."""
    credential_id = fields["credential_id"]
    document = {
        **fields,
        "occurred_at": fields["occurred_at"]
        .astimezone(UTC)
        .replace(tzinfo=None)
        .isoformat(timespec="microseconds")
        + "Z",
        "credential_id": None if credential_id is None else credential_id.hex(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


_ints = st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
_texts = st.none() | st.text()


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    occurred_at=st.datetimes(timezones=st.timezones()),
    event_name=st.text(),
    outcome=st.text(),
    code=_texts,
    user_id=_ints,
    actor_user_id=_ints,
    credential_id=st.none() | st.binary(max_size=64),
    origin=_texts,
    client_address=_texts,
    detail=_texts,
)
def test_the_fast_encoding_is_the_documented_one(
    seq: int,
    occurred_at: datetime,
    event_name: str,
    outcome: str,
    code: str | None,
    user_id: int | None,
    actor_user_id: int | None,
    credential_id: bytes | None,
    origin: str | None,
    client_address: str | None,
    detail: str | None,
) -> None:
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": occurred_at,
        "event": event_name,
        "outcome": outcome,
        "code": code,
        "user_id": user_id,
        "actor_user_id": actor_user_id,
        "credential_id": credential_id,
        "origin": origin,
        "client_address": client_address,
        "detail": detail,
    }
    assume(occurred_at.utcoffset() is not None)
    try:
        occurred_at.astimezone(UTC)
    except OverflowError:  # near datetime.min/max the UTC instant does not exist
        assume(False)
    assert encode(**fields) == reference_encoding(**fields)


def test_an_int_field_must_be_an_int() -> None:
    fields: dict[str, Any] = {
        "seq": 1,
        "occurred_at": T0,
        "event": "e",
        "outcome": "o",
        "code": None,
        "user_id": True,  # json would write true; refuse rather than hash an ambiguity
        "actor_user_id": None,
        "credential_id": None,
        "origin": None,
        "client_address": None,
        "detail": None,
    }
    with pytest.raises(TypeError, match="int"):
        encode(**fields)


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="naive"), db_transaction(engine) as conn:
        append(conn, event(1), T0.replace(tzinfo=None))


# -- transactions and concurrency ------------------------------------------------------


def test_a_rolled_back_append_leaves_no_event_and_no_head_change(engine: Engine) -> None:
    build_chain(engine, 2)
    before = head(engine)

    def ceremony() -> None:
        with db_transaction(engine) as conn:
            append(conn, event(3), T0)
            append(conn, event(4), T0)
            raise RuntimeError("the ceremony failed after its audit writes")

    with pytest.raises(RuntimeError):
        ceremony()
    assert head(engine) == before
    assert sorted(ids_by_seq(engine)) == [1, 2]
    with db_transaction(engine) as conn:
        append(conn, event(3), T0)
    assert sorted(ids_by_seq(engine)) == [1, 2, 3]
    assert verify(engine) == ChainReport(ok=True, events=3)


def test_concurrent_writers_on_two_engines_never_fork(engine: Engine, storage_url: str) -> None:
    """8 threads x 25 appends, each its own transaction, half through a second engine (a
    second instance); they start on an empty table with no head row, so the first appends
    also race to create it."""
    threads_count, per_thread = 8, 25
    other = create_db_engine(storage_url)
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_count)

    def writer(n: int) -> None:
        instance = engine if n % 2 else other
        try:
            barrier.wait()
            for i in range(per_thread):
                with db_transaction(instance) as conn:
                    append(conn, event(1, user_id=n, detail={"i": i}), T0)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.dispose()
    assert errors == []
    total = threads_count * per_thread
    assert verify(engine) == ChainReport(ok=True, events=total)
    assert sorted(ids_by_seq(engine)) == list(range(1, total + 1))
    current = head(engine)
    assert current is not None and current[0] == total
    with engine.connect() as conn:
        per_writer = conn.execute(
            select(audit_events.c.user_id, audit_events.c.detail).order_by(audit_events.c.seq)
        ).all()
    for n in range(threads_count):
        # each writer's events are in its own order along the chain
        mine = [detail for user_id, detail in per_writer if user_id == n]
        assert mine == [f'{{"i":{i}}}' for i in range(per_thread)]


# -- the admin query -------------------------------------------------------------------


def test_query_filters_and_pages_newest_first(engine: Engine) -> None:
    with db_transaction(engine) as conn:
        for i in range(1, 13):
            append(
                conn,
                event(i, user_id=1 if i % 3 else 2, event="registration" if i > 6 else "x"),
                T0 + timedelta(minutes=i),
            )
    with db_transaction(engine) as conn:
        everything = query(conn)
        assert [e["seq"] for e in everything] == list(range(12, 0, -1))
        first = query(conn, limit=5)
        second = query(conn, limit=5, before_seq=cast(int, first[-1]["seq"]))
        assert [e["seq"] for e in first + second] == list(range(12, 2, -1))
        assert [e["seq"] for e in query(conn, user_id=2)] == [12, 9, 6, 3]
        assert [e["seq"] for e in query(conn, user_id=2, event="registration")] == [12, 9]
        window = query(conn, since=T0 + timedelta(minutes=4), until=T0 + timedelta(minutes=7))
        assert [e["seq"] for e in window] == [6, 5, 4]
        [newest] = query(conn, limit=1)
        with pytest.raises(ValueError, match="limit"):
            query(conn, limit=0)
        with pytest.raises(ValueError, match="limit"):
            query(conn, limit=MAX_LIMIT + 1)
    assert newest == {
        "id": newest["id"],
        "seq": 12,
        "occurred_at": T0 + timedelta(minutes=12),
        "event": "registration",
        "outcome": "failure",
        "code": "sign_count_regressed",
        "user_id": 2,
        "actor_user_id": None,
        "credential_id": bytes([12]) * 16,
        "origin": "https://example.com",
        "client_address": "192.0.2.12",
        "detail": {"n": 12, "aaguid": "00" * 16, "note": "caf\u00e9 \u2603"},
    }


# -- the migration ---------------------------------------------------------------------


@pytest.fixture
def scratch_url(tmp_path: Path, engine: Engine) -> Iterator[str]:
    """An empty database of the test's kind, apart from the shared one."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'chain.db'}"
        return
    base = make_url(os.environ["DATABASE_URL"])
    name = f"{base.database}_audit_chain_{secrets.token_hex(4)}"
    admin = create_db_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_INSERT_0001 = text(
    "INSERT INTO audit_events (id, occurred_at, event, outcome, code, user_id, credential_id,"
    " origin, client_address, detail) VALUES (:id, :occurred_at, :event, :outcome, :code,"
    " :user_id, :credential_id, :origin, :client_address, :detail)"
).bindparams(
    bindparam("id", type_=Integer()),
    bindparam("occurred_at", type_=UTCDateTime()),
    bindparam("event", type_=String()),
    bindparam("outcome", type_=String()),
    bindparam("code", type_=String()),
    bindparam("user_id", type_=Integer()),
    bindparam("credential_id", type_=LargeBinary()),
    bindparam("origin", type_=String()),
    bindparam("client_address", type_=String()),
    bindparam("detail", type_=Text()),
)


def test_upgrading_chains_the_events_already_stored(scratch_url: str) -> None:
    upgrade(scratch_url, "0001")
    scratch = create_db_engine(scratch_url)
    try:
        with db_transaction(scratch) as conn:
            for row_id in (10, 3, 7):  # written out of id order: the chain follows the id
                conn.execute(
                    _INSERT_0001,
                    {
                        "id": row_id,
                        "occurred_at": T0 + timedelta(hours=row_id),
                        "event": "registration",
                        "outcome": "failure" if row_id == 3 else "success",
                        "code": "origin_mismatch" if row_id == 3 else None,
                        "user_id": row_id,
                        "credential_id": b"\xab" * row_id if row_id != 7 else None,
                        "origin": "https://example.com",
                        "client_address": None,
                        "detail": '{"fmt":"packed","name":"\u00e9"}' if row_id == 7 else None,
                    },
                )
        upgrade(scratch, "head")
        assert ids_by_seq(scratch) == {1: 3, 2: 7, 3: 10}
        assert verify(scratch) == ChainReport(ok=True, events=3)
        with db_transaction(scratch) as conn:
            append(conn, event(4), T0)
        assert verify(scratch) == ChainReport(ok=True, events=4)
        assert head(scratch) is not None
    finally:
        scratch.dispose()


def test_upgrading_an_empty_log_starts_the_chain_and_downgrade_undoes_it(
    scratch_url: str,
) -> None:
    upgrade(scratch_url, "0002")
    scratch = create_db_engine(scratch_url)
    try:
        assert head(scratch) == (0, GENESIS_HASH)
        assert verify(scratch) == ChainReport(ok=True, events=0)
        with db_transaction(scratch) as conn:
            command.downgrade(alembic_config(conn), "0001")
        with scratch.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("audit_events")}
            assert not {"seq", "prev_hash", "hash", "actor_user_id"} & columns
            assert not inspect(conn).has_table("audit_head")
        upgrade(scratch, "0002")
        assert head(scratch) == (0, GENESIS_HASH)
    finally:
        scratch.dispose()
