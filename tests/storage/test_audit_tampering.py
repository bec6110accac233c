"""Tampering with the audit log: every edit, deletion, insertion and reordering is found,
at the first bad event, with its reason."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import (
    Engine,
    text,
)

from authsvc.audit.log import append
from authsvc.storage.db import transaction as db_transaction
from authsvc.storage.models import audit_head
from tests.storage.audit_chains import (
    HASH_MISMATCH,
    assert_bad,
    build_chain,
    event,
    forged,
    ids_by_seq,
    raw_insert,
    raw_update,
    row_at,
    verify,
)
from tests.storage.builders import T0

# -- tampering -------------------------------------------------------------------------

EDITS = [
    pytest.param("occurred_at", T0 + timedelta(seconds=3, microseconds=1), id="occurred_at"),
    pytest.param("event", "registration", id="event"),
    pytest.param("outcome", "failure", id="outcome"),
    pytest.param("code", "tampered", id="code"),
    pytest.param("user_id", 1, id="user_id"),
    pytest.param("user_id", None, id="user_id-to-null"),
    pytest.param("actor_user_id", None, id="actor_user_id"),
    pytest.param("credential_id", b"\x03" * 15, id="credential_id"),
    pytest.param("origin", "https://evil.example", id="origin"),
    pytest.param("client_address", "198.51.100.1", id="client_address"),
    pytest.param("detail", '{"n":3}', id="detail"),
    pytest.param("prev_hash", b"\x00" * 32, id="prev_hash"),
    pytest.param("hash", b"\x11" * 32, id="hash"),
]


@pytest.mark.parametrize(("column", "value"), EDITS)
def test_an_edited_field_is_found_at_its_seq(engine: Engine, column: str, value: object) -> None:
    ids = build_chain(engine)
    with db_transaction(engine) as conn:
        before = row_at(conn, 3)[column]
        assert before != value  # the edit really changes something
        raw_update(conn, 3, column, value)
    report = verify(engine)
    assert_bad(report, 3, ids[3], HASH_MISMATCH)
    assert report.events == 2


def test_a_moved_seq_leaves_a_gap_where_it_was(engine: Engine) -> None:
    ids = build_chain(engine)
    with db_transaction(engine) as conn:
        raw_update(conn, 3, "seq", 99)
    assert_bad(verify(engine), 4, ids[4], "sequence gap before seq 4")


def test_a_deleted_middle_event_is_a_gap(engine: Engine) -> None:
    ids = build_chain(engine)
    with db_transaction(engine) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    report = verify(engine)
    assert_bad(report, 4, ids[4], "sequence gap before seq 4")
    assert report.events == 2


def test_a_deleted_first_event_is_a_gap(engine: Engine) -> None:
    ids = build_chain(engine)
    with db_transaction(engine) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 1"))
    assert_bad(verify(engine), 2, ids[2], "sequence gap before seq 2")


def test_a_deleted_last_event_leaves_the_head_ahead(engine: Engine) -> None:
    build_chain(engine)
    with db_transaction(engine) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    report = verify(engine)
    assert_bad(report, 5, None, "head is at seq 5 but the last event is 4")
    assert report.events == 4


def test_a_wiped_log_with_its_head_left_is_found(engine: Engine) -> None:
    build_chain(engine)
    with db_transaction(engine) as conn:
        conn.execute(text("DELETE FROM audit_events"))
    assert_bad(verify(engine), 1, None, "head is at seq 5 but the last event is 0")


CONTENT = [
    "occurred_at",
    "event",
    "outcome",
    "code",
    "user_id",
    "actor_user_id",
    "credential_id",
    "origin",
    "client_address",
    "detail",
]


@pytest.mark.parametrize(
    "columns",
    [
        pytest.param(CONTENT, id="contents"),
        pytest.param([*CONTENT, "prev_hash", "hash"], id="contents-and-hashes"),
    ],
)
def test_swapped_events_are_found_at_the_first(engine: Engine, columns: list[str]) -> None:
    ids = build_chain(engine)
    with db_transaction(engine) as conn:
        second, fourth = row_at(conn, 2), row_at(conn, 4)
        for column in columns:
            raw_update(conn, 2, column, fourth[column])
            raw_update(conn, 4, column, second[column])
    assert_bad(verify(engine), 2, ids[2], HASH_MISMATCH)


def test_reordered_seqs_are_found_at_the_first(engine: Engine) -> None:
    ids = build_chain(engine)
    with db_transaction(engine) as conn:
        raw_update(conn, 2, "seq", -2)
        raw_update(conn, 4, "seq", 2)
        raw_update(conn, -2, "seq", 4)
    assert_bad(verify(engine), 2, ids[4], HASH_MISMATCH)


def test_a_forged_event_past_the_head_is_found(engine: Engine) -> None:
    build_chain(engine)
    with db_transaction(engine) as conn:
        forged_id = raw_insert(conn, forged(6, row_at(conn, 5)["hash"]))
    report = verify(engine)
    assert_bad(report, 6, forged_id, "head is at seq 5 but the last event is 6")
    assert report.events == 5


def test_a_forged_event_with_its_head_moved_is_found(engine: Engine) -> None:
    build_chain(engine)
    with db_transaction(engine) as conn:
        fake = forged(6, row_at(conn, 5)["hash"])
        fake["hash"] = secrets.token_bytes(32)  # the forger cannot produce the right one...
        forged_id = raw_insert(conn, fake)
        conn.execute(audit_head.update().values(seq=6, hash=fake["hash"]))
    assert_bad(verify(engine), 6, forged_id, HASH_MISMATCH)


def test_a_forged_event_that_does_not_link_is_found(engine: Engine) -> None:
    build_chain(engine)
    made_up = secrets.token_bytes(32)
    with db_transaction(engine) as conn:
        forged_id = raw_insert(conn, forged(6, made_up))  # self-consistent, wrong predecessor
        conn.execute(audit_head.update().values(seq=6, hash=row_at(conn, 6)["hash"]))
    assert_bad(verify(engine), 6, forged_id, "prev_hash does not link to seq 5")


def test_a_forged_event_slipped_into_the_middle_is_found(engine: Engine) -> None:
    """Shift 3..5 up, insert a perfectly hashed event at 3: the old event 3 no longer fits."""
    ids = build_chain(engine)
    with db_transaction(engine) as conn:
        for seq in (5, 4, 3):  # one at a time: seq is unique at every statement
            raw_update(conn, seq, "seq", seq + 1)
        raw_insert(conn, forged(3, row_at(conn, 2)["hash"]))
        conn.execute(audit_head.update().values(seq=6, hash=row_at(conn, 6)["hash"]))
    assert_bad(verify(engine), 4, ids[3], HASH_MISMATCH)


def test_an_edited_head_is_found(engine: Engine) -> None:
    ids = build_chain(engine)
    with db_transaction(engine) as conn:
        conn.execute(audit_head.update().values(hash=b"\x22" * 32))
    assert_bad(verify(engine), 5, ids[5], "head hash does not match seq 5")


def test_a_deleted_head_is_found_and_appends_stop(engine: Engine) -> None:
    """Without its head the chain's end is unknown: appending fails rather than guessing."""
    build_chain(engine)
    with db_transaction(engine) as conn:
        conn.execute(audit_head.delete())
    assert_bad(verify(engine), 1, ids_by_seq(engine)[1], "head is at seq 0 but the last event is 5")
    integrity_error = engine.dialect.loaded_dbapi.IntegrityError
    with pytest.raises(integrity_error), db_transaction(engine) as conn:
        append(conn, event(6), T0)
    assert len(ids_by_seq(engine)) == 5
