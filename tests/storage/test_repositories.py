"""Users and credentials round-trip as records; clashes become domain errors in savepoints."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import StatementError

from authsvc.errors import Conflict, CredentialExcluded
from authsvc.storage import repositories as repo
from authsvc.storage.db import transaction
from authsvc.storage.models import credentials, users
from authsvc.storage.records import UserRecord
from tests.storage.builders import T0, make_user, new_credential


def test_user_round_trip(engine: Engine) -> None:
    with transaction(engine) as conn:
        created = make_user(conn, "alice")
    with transaction(engine) as conn:
        by_name = repo.get_user_by_username(conn, "alice")
        by_id = repo.get_user(conn, created.id)
        assert repo.get_user_by_username(conn, "bob") is None
        assert repo.get_user(conn, created.id + 1000) is None
    assert by_name == by_id == created
    assert isinstance(created, UserRecord)
    assert created.created_at == T0
    assert created.created_at.tzinfo is UTC


def test_other_time_zones_come_back_as_the_same_instant_in_utc(engine: Engine) -> None:
    local = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with transaction(engine) as conn:
        user = repo.create_user(
            conn, username="tz", display_name="Tz", user_handle=b"h" * 32, created_at=local
        )
    assert user.created_at == local
    assert user.created_at.tzinfo is UTC
    assert user.created_at.hour == 10


def test_naive_datetime_is_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), transaction(engine) as conn:
        repo.create_user(
            conn,
            username="naive",
            display_name="Naive",
            user_handle=b"n" * 32,
            created_at=datetime(2025, 1, 1),  # noqa: DTZ001 - naive: the point of the test
        )


def test_duplicate_username_is_conflict_and_the_transaction_goes_on(engine: Engine) -> None:
    with transaction(engine) as conn:
        make_user(conn, "alice")
    with transaction(engine) as conn:
        carol = make_user(conn, "carol")
        with pytest.raises(Conflict):
            make_user(conn, "alice")
        repo.add_credential(conn, new_credential(carol.id, b"carol-key"))
    with transaction(engine) as conn:
        assert repo.get_user_by_username(conn, "carol") == carol
        assert repo.sign_in_credential(conn, b"carol-key") is not None
        assert len(conn.execute(select(users.c.id)).all()) == 2


def test_duplicate_user_handle_is_conflict(engine: Engine) -> None:
    with transaction(engine) as conn:
        alice = make_user(conn, "alice")
        with pytest.raises(Conflict):
            repo.create_user(
                conn,
                username="mallory",
                display_name="Mallory",
                user_handle=alice.user_handle,
                created_at=T0,
            )


def test_credential_round_trip(engine: Engine) -> None:
    with transaction(engine) as conn:
        user = make_user(conn)
        new = new_credential(user.id, b"\x00cred\xff" * 100, sign_count=5)
        pk = repo.add_credential(conn, new)
    with transaction(engine) as conn:
        stored = repo.sign_in_credential(conn, new.credential_id)
        assert repo.sign_in_credential(conn, b"unknown") is None
    assert stored is not None
    assert stored.id == pk
    assert stored.user_id == user.id
    assert stored.user_handle == user.user_handle
    for field in (
        "credential_id",
        "public_key",
        "algorithm",
        "sign_count",
        "aaguid",
        "fmt",
        "attestation_type",
        "trust",
        "transports",
        "backup_eligible",
        "backed_up",
        "attachment",
        "name",
        "created_at",
    ):
        assert getattr(stored, field) == getattr(new, field), field
    assert stored.transports == ("internal", "hybrid")
    assert stored.last_used_at is None
    assert stored.status == "active"


def test_longest_credential_id_fits(engine: Engine) -> None:
    with transaction(engine) as conn:
        user = make_user(conn)
        repo.add_credential(conn, new_credential(user.id, b"\xab" * 1023, transports=()))
        stored = repo.sign_in_credential(conn, b"\xab" * 1023)
    assert stored is not None
    assert stored.transports == ()


def test_list_credentials(engine: Engine) -> None:
    with transaction(engine) as conn:
        alice, bob = make_user(conn, "alice"), make_user(conn, "bob")
        first = repo.add_credential(conn, new_credential(alice.id))
        second = repo.add_credential(conn, new_credential(alice.id))
        repo.add_credential(conn, new_credential(bob.id))
    with transaction(engine) as conn:
        listed = repo.list_credentials(conn, alice.id)
        assert repo.list_credentials(conn, alice.id + bob.id + 1000) == []
    assert [c.id for c in listed] == [first, second]
    assert {c.user_handle for c in listed} == {alice.user_handle}


def test_duplicate_credential_is_excluded_and_the_transaction_goes_on(engine: Engine) -> None:
    with transaction(engine) as conn:
        alice, bob = make_user(conn, "alice"), make_user(conn, "bob")
        repo.add_credential(conn, new_credential(alice.id, b"shared-id"))
    with transaction(engine) as conn:
        with pytest.raises(CredentialExcluded):
            repo.add_credential(conn, new_credential(bob.id, b"shared-id"))
        with pytest.raises(CredentialExcluded):
            repo.add_credential(conn, new_credential(alice.id, b"shared-id"))
        repo.add_credential(conn, new_credential(bob.id, b"bob-id"))
    with transaction(engine) as conn:
        owner = repo.sign_in_credential(conn, b"shared-id")
        assert owner is not None
        assert owner.user_id == alice.id
        assert [c.credential_id for c in repo.list_credentials(conn, bob.id)] == [b"bob-id"]


def test_deleting_a_user_deletes_their_credentials(engine: Engine) -> None:
    with transaction(engine) as conn:
        user = make_user(conn)
        repo.add_credential(conn, new_credential(user.id, b"gone"))
    with transaction(engine) as conn:
        conn.execute(delete(users).where(users.c.id == user.id))
    with transaction(engine) as conn:
        assert conn.execute(select(credentials.c.id)).first() is None


def test_record_use_is_compare_and_set(engine: Engine) -> None:
    used_at = T0 + timedelta(days=1)
    with transaction(engine) as conn:
        pk = repo.add_credential(conn, new_credential(make_user(conn).id, b"c", sign_count=5))
    with transaction(engine) as conn:
        assert repo.record_use(
            conn, credential_pk=pk, old_sign_count=5, new_sign_count=9, backed_up=True, at=used_at
        )
        assert not repo.record_use(
            conn, credential_pk=pk, old_sign_count=5, new_sign_count=7, backed_up=False, at=T0
        )
        assert not repo.record_use(
            conn, credential_pk=pk + 1, old_sign_count=9, new_sign_count=10, backed_up=False, at=T0
        )
    with transaction(engine) as conn:
        stored = repo.sign_in_credential(conn, b"c")
    assert stored is not None
    assert (stored.sign_count, stored.backed_up, stored.last_used_at) == (9, True, used_at)


def test_concurrent_sign_ins_move_the_counter_once(engine: Engine) -> None:
    with transaction(engine) as conn:
        pk = repo.add_credential(conn, new_credential(make_user(conn).id, b"c", sign_count=1))
    outcomes: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def sign_in(new_count: int) -> None:
        try:
            barrier.wait()
            with transaction(engine) as conn:
                outcomes.append(
                    repo.record_use(
                        conn,
                        credential_pk=pk,
                        old_sign_count=1,
                        new_sign_count=new_count,
                        backed_up=False,
                        at=T0,
                    )
                )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=sign_in, args=(2 + i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == [False] * 7 + [True]
