"""Pending ceremonies are handed out exactly once, by every store, even to racing threads."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from sqlalchemy import Engine, func, select

from authsvc.ceremony.state import PendingCeremony
from authsvc.errors import Unavailable
from authsvc.storage.challenges import (
    EXPIRED_GRACE,
    ChallengeStore,
    RedisChallengeStore,
    SqlChallengeStore,
    make_challenge_store,
)
from authsvc.storage.db import transaction
from authsvc.storage.models import challenges
from authsvc.storage.sweeping import SWEEP_INTERVAL
from tests.storage.builders import pending


def test_consume_returns_the_state_exactly_once(
    engine: Engine, challenge_store: ChallengeStore
) -> None:
    state = pending()
    challenge_store.put(state)
    with transaction(engine) as conn:
        assert challenge_store.consume(conn, state.id) == state
    with transaction(engine) as conn:
        assert challenge_store.consume(conn, state.id) is None


def test_unknown_ceremony_is_none(engine: Engine, challenge_store: ChallengeStore) -> None:
    with transaction(engine) as conn:
        assert challenge_store.consume(conn, "never-issued") is None


def test_ceremonies_are_kept_apart(engine: Engine, challenge_store: ChallengeStore) -> None:
    first, second = pending(), pending()
    challenge_store.put(first)
    challenge_store.put(second)
    with transaction(engine) as conn:
        assert challenge_store.consume(conn, second.id) == second
        assert challenge_store.consume(conn, first.id) == first


def test_racing_consumers_get_it_once(engine: Engine, challenge_store: ChallengeStore) -> None:
    """Eight requests answer the same ceremony at once, each in its own transaction."""
    state = pending()
    challenge_store.put(state)
    won: list[PendingCeremony] = []
    lost: list[None] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def answer() -> None:
        try:
            barrier.wait()
            with transaction(engine) as conn:
                got = challenge_store.consume(conn, state.id)
                time.sleep(0.01)  # hold the transaction open, as verification would
            (won.append(got) if got is not None else lost.append(got))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=answer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert won == [state]
    assert len(lost) == 7


def test_sweep_drops_only_expired_state(engine: Engine, challenge_store: ChallengeStore) -> None:
    now = time.time()
    expired, live = pending(expires_in=-5, now=now), pending(expires_in=300, now=now)
    challenge_store.put(expired)
    challenge_store.put(live)
    swept = challenge_store.sweep(now)
    with transaction(engine) as conn:
        assert challenge_store.consume(conn, live.id) == live
    if isinstance(challenge_store, SqlChallengeStore):
        assert swept == 1
        with transaction(engine) as conn:
            assert challenge_store.consume(conn, expired.id) is None
    else:
        assert swept == 0  # Redis expires keys itself


def test_sql_consumption_rolls_back_with_the_ceremony(engine: Engine) -> None:
    store = SqlChallengeStore(engine)
    state = pending()
    store.put(state)

    def ceremony() -> None:
        with transaction(engine) as conn:
            assert store.consume(conn, state.id) == state
            raise RuntimeError("the ceremony's transaction failed before commit")

    with pytest.raises(RuntimeError):
        ceremony()
    with transaction(engine) as conn:
        assert store.consume(conn, state.id) == state


def _rows(engine: Engine) -> int:
    with transaction(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(challenges)).scalar_one())


def test_put_sweeps_long_expired_rows_at_most_once_a_minute(engine: Engine) -> None:
    clock = [1_000_000.0]
    store = SqlChallengeStore(engine, clock=lambda: clock[0])
    store.put(pending(expires_in=-(EXPIRED_GRACE + 1), now=clock[0]))  # swept by its own put
    assert _rows(engine) == 0
    store.put(pending(expires_in=-(EXPIRED_GRACE + 1), now=clock[0]))
    store.put(pending(expires_in=30, now=clock[0]))
    assert _rows(engine) == 2  # no second sweep within the interval
    clock[0] += SWEEP_INTERVAL
    store.put(pending(now=clock[0]))
    # The long-expired row went; the one expired 30 s ago is kept for the grace period.
    assert _rows(engine) == 2


def test_redis_keys_expire_after_the_grace_period(redis_client: redis.Redis) -> None:
    store = RedisChallengeStore(redis_client, "authsvc-test-ttl:")
    state = pending(expires_in=120)
    store.put(state)
    try:
        ttl = redis_client.ttl("authsvc-test-ttl:" + state.id)
        assert isinstance(ttl, int)
        assert 120 + EXPIRED_GRACE - 5 <= ttl <= 120 + EXPIRED_GRACE + 1
    finally:
        redis_client.delete("authsvc-test-ttl:" + state.id)


def test_factory_picks_the_store(engine: Engine) -> None:
    assert isinstance(make_challenge_store(engine, None, "p:"), SqlChallengeStore)
    assert isinstance(
        make_challenge_store(engine, "redis://127.0.0.1:1/0", "p:"), RedisChallengeStore
    )


def test_redis_down_is_unavailable(engine: Engine) -> None:
    store = make_challenge_store(engine, "redis://127.0.0.1:1/0", "p:")
    with pytest.raises(Unavailable):
        store.put(pending())
    with pytest.raises(Unavailable), transaction(engine) as conn:
        store.consume(conn, "some-ceremony")
