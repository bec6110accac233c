"""Each session store keeps records by hash, revokes by user and credential, and never
brings a revoked record back. Redis-only cases need REDIS_URL (CI's second run)."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Connection, Engine, insert

from authsvc.storage import repositories as repo
from authsvc.storage.challenges import SqlChallengeStore
from authsvc.storage.db import transaction
from authsvc.storage.models import web_sessions
from authsvc.storage.sessions import RedisSessionStore, SessionRecord, SessionStore, SqlSessionStore
from tests.storage.builders import make_user, new_credential, pending
from tests.storage.conftest import REDIS_URL, STORE_KINDS

IDLE, LIFETIME = 1800, 43_200
NOW = 1_000_000.0


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, engine: Engine) -> Iterator[SessionStore]:
    if request.param == "sql":
        yield SqlSessionStore(IDLE)
        return
    assert REDIS_URL is not None
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"authsvc-test:{secrets.token_hex(8)}:"
    try:
        yield RedisSessionStore(client, prefix, idle_timeout=IDLE, lifetime=LIFETIME)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def _account(conn: Connection, username: str) -> tuple[int, int, int]:
    """A user with two credentials: (user id, credential pk, other credential pk)."""
    user = make_user(conn, username)
    return (
        user.id,
        repo.add_credential(conn, new_credential(user.id)),
        repo.add_credential(conn, new_credential(user.id)),
    )


def _record(user_id: int, credential_pk: int, *, at: float = NOW) -> SessionRecord:
    return SessionRecord(
        id_hash=hashlib.sha256(secrets.token_bytes(32)).digest(),
        user_id=user_id,
        credential_pk=credential_pk,
        user_verified=True,
        signed_in_at=at,
        verified_at=at,
        last_seen_at=at,
        expires_at=at + LIFETIME,
        client_address="192.0.2.1",
        user_agent="test",
    )


def _save(engine: Engine, store: SessionStore, record: SessionRecord) -> None:
    with transaction(engine) as conn:
        store.add(conn, record)
    store.publish(record)


def test_records_round_trip_and_are_taken_once(engine: Engine, store: SessionStore) -> None:
    with transaction(engine) as conn:
        user, cred, _ = _account(conn, "ada")
    record = _record(user, cred)
    _save(engine, store, record)
    with transaction(engine) as conn:
        assert store.get(conn, record.id_hash) == record
        assert store.take(conn, record.id_hash) == record
    with transaction(engine) as conn:
        assert store.get(conn, record.id_hash) is None
        assert store.take(conn, record.id_hash) is None


def test_revocation_by_user_and_by_credential(engine: Engine, store: SessionStore) -> None:
    with transaction(engine) as conn:
        ada, ada_key, ada_other_key = _account(conn, "ada")
        bob, bob_key, _ = _account(conn, "bob")
    by_key = [_record(ada, ada_key), _record(ada, ada_key)]
    by_other = _record(ada, ada_other_key, at=NOW + 1)
    bobs = _record(bob, bob_key)
    for record in (*by_key, by_other, bobs):
        _save(engine, store, record)
    with transaction(engine) as conn:
        assert len(store.of_user(conn, ada)) == 3
        assert store.revoke_credential(conn, ada_key) == 2
    with transaction(engine) as conn:
        assert store.of_user(conn, ada) == [by_other]
        assert store.revoke_user(conn, ada) == 1
    with transaction(engine) as conn:
        assert store.of_user(conn, ada) == []
        assert store.revoke_user(conn, ada) == 0
        assert store.get(conn, bobs.id_hash) == bobs  # another user's stays


def test_a_recovered_record_has_no_credential_and_ends_with_its_user(
    engine: Engine, store: SessionStore
) -> None:
    with transaction(engine) as conn:
        user, cred, _ = _account(conn, "ada")
    recovered = dataclasses.replace(
        _record(user, cred), credential_pk=None, verified_at=None, recovered=True
    )
    _save(engine, store, recovered)
    with transaction(engine) as conn:
        assert store.get(conn, recovered.id_hash) == recovered
        assert store.revoke_credential(conn, cred) == 0  # no passkey signed it in
        assert store.of_user(conn, user) == [recovered]
        assert store.revoke_user(conn, user) == 1
    with transaction(engine) as conn:
        assert store.get(conn, recovered.id_hash) is None
    taken = dataclasses.replace(recovered, id_hash=hashlib.sha256(b"another").digest())
    _save(engine, store, taken)
    with transaction(engine) as conn:
        assert store.take(conn, taken.id_hash) == taken


def test_touch_moves_last_seen_but_never_revives(engine: Engine, store: SessionStore) -> None:
    with transaction(engine) as conn:
        user, cred, _ = _account(conn, "ada")
    record = _record(user, cred)
    _save(engine, store, record)
    with transaction(engine) as conn:
        store.touch(conn, record, NOW + 90)
        found = store.get(conn, record.id_hash)
    assert found is not None and found.last_seen_at == NOW + 90
    with transaction(engine) as conn:
        store.take(conn, record.id_hash)
    with transaction(engine) as conn:
        store.touch(conn, record, NOW + 200)  # a request that loaded it just before
        assert store.get(conn, record.id_hash) is None


def test_sql_add_sweeps_expired_and_idle_sessions(engine: Engine) -> None:
    store = SqlSessionStore(IDLE)
    with transaction(engine) as conn:
        user, cred, _ = _account(conn, "ada")
    old = _record(user, cred, at=NOW - LIFETIME - 1)  # past its lifetime
    idle = _record(user, cred, at=NOW - IDLE - 1)  # idle too long
    live = _record(user, cred, at=NOW - 10)
    with transaction(engine) as conn:
        for record in (old, idle, live):
            # placed directly, so that no sweep runs before the last add
            conn.execute(insert(web_sessions).values(dataclasses.asdict(record)))
        store.add(conn, _record(user, cred))  # the first add of a process sweeps
        assert store.of_user(conn, user)[0] == live
        assert len(store.of_user(conn, user)) == 2


def test_redis_records_expire_when_they_become_unusable(redis_client: redis.Redis) -> None:
    prefix = f"authsvc-test:{secrets.token_hex(8)}:"
    store = RedisSessionStore(redis_client, prefix, idle_timeout=IDLE, lifetime=LIFETIME)
    record = _record(1, 1, at=NOW)
    store.publish(record)
    try:
        ttl = redis_client.ttl(f"{prefix}session:{record.id_hash.hex()}")
        assert isinstance(ttl, int)
        # usable for the idle timeout (shorter than the lifetime), then a minute's grace
        assert IDLE + 55 <= ttl <= IDLE + 60
    finally:
        for key in redis_client.scan_iter(match=f"{prefix}*"):
            redis_client.delete(key)


def test_new_options_replace_the_sessions_pending_ceremony(engine: Engine) -> None:
    """One pending ceremony per session and kind: a second put of the same id replaces it."""
    store = SqlChallengeStore(engine)
    first = pending()
    second = pending()
    replacing = dataclasses.replace(first, challenge=second.challenge)
    store.put(first)
    store.put(replacing)
    with transaction(engine) as conn:
        assert store.consume(conn, first.id) == replacing
        assert store.consume(conn, first.id) is None
