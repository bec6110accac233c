"""The rate-limit storages: SQL counters (atomic, expiring, swept), sliding windows, and
every window of a limit hit in one call, on SQL and on limits' own Redis storage."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import RedisStorage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import Engine, func, select

from authsvc.storage.models import rate_limits
from authsvc.storage.rate_limits import SqlRateLimitStorage, hit_windows, row_key
from authsvc.storage.sweeping import SWEEP_INTERVAL
from tests.storage.conftest import REDIS_URL


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(rate_limits)).scalar_one())


def test_registered_with_limits_under_its_scheme(engine: Engine) -> None:
    """As flask-limiter builds it: the URI, and the options from RATELIMIT_STORAGE_OPTIONS."""
    options: dict[str, Any] = {"engine": engine}
    storage = storage_from_string("authsvc+sql://", **options)
    assert isinstance(storage, SqlRateLimitStorage)
    assert storage.check()


def test_racing_increments_are_all_counted(engine: Engine) -> None:
    """Eight threads, 25 increments each, each its own transaction: no update is lost."""
    storage = SqlRateLimitStorage(engine=engine)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            barrier.wait()
            for _ in range(25):
                storage.incr("race", 60)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert storage.get("race") == 200


def test_racing_hits_never_pass_the_limit(engine: Engine) -> None:
    """Eight threads try 10 hits each at a limit of 20: exactly 20 are let through."""
    storage = SqlRateLimitStorage(engine=engine)
    barrier = threading.Barrier(8)
    allowed: list[bool] = []

    def hammer() -> None:
        barrier.wait()
        allowed.extend(storage.acquire_sliding_window_entry("burst", 20, 3600) for _ in range(10))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 80
    assert allowed.count(True) == 20


def test_a_counter_expires_and_restarts(engine: Engine) -> None:
    clock = Clock()
    storage = SqlRateLimitStorage(engine=engine, clock=clock)
    assert storage.incr("k", 10) == 1
    assert storage.incr("k", 10) == 2
    assert storage.get_expiry("k") == clock.now + 10  # set by the first increment only
    clock.now += 10
    assert storage.get("k") == 0  # expired, even before it is swept
    assert storage.incr("k", 10) == 1  # the UPSERT restarts an expired row
    storage.clear("k")
    assert storage.get("k") == 0


def test_expired_rows_are_swept_in_a_later_write(engine: Engine) -> None:
    clock = Clock()
    storage = SqlRateLimitStorage(engine=engine, clock=clock)
    for n in range(5):
        storage.incr(f"old-{n}", 1)
    assert rows(engine) == 5
    clock.now += SWEEP_INTERVAL + 1
    storage.incr("new", 60)
    assert rows(engine) == 1


def test_sliding_window_allows_the_limit_then_refuses(engine: Engine) -> None:
    clock = Clock(1_800_000_000.0)  # the start of a minute
    storage = SqlRateLimitStorage(engine=engine, clock=clock)
    assert [storage.acquire_sliding_window_entry("w", 3, 60) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    clock.now += 60  # next window: the previous one still weighs fully at its start
    assert not storage.acquire_sliding_window_entry("w", 3, 60)
    clock.now += 30  # half way: half of the previous window's 3 hits still count (1.5 -> 1)
    assert storage.acquire_sliding_window_entry("w", 3, 60)
    previous, previous_ttl, current, _ = storage.get_sliding_window("w", 60)
    assert (previous, current) == (3, 1)
    assert previous_ttl == 30
    storage.clear_sliding_window("w", 60)
    assert storage.get_sliding_window("w", 60)[::2] == (0, 0)


def test_the_strategy_over_the_storage(engine: Engine) -> None:
    limiter = SlidingWindowCounterRateLimiter(SqlRateLimitStorage(engine=engine))
    item = parse("2/hour")
    assert [limiter.hit(item, "ip", "scope") for _ in range(3)] == [True, True, False]
    assert limiter.get_window_stats(item, "ip", "scope").remaining == 0
    assert limiter.hit(item, "other-ip", "scope")


def test_overlong_keys_are_hashed_to_fit() -> None:
    assert row_key("short") == "short"
    long = "x" * 300
    assert len(row_key(long)) < 255
    assert row_key(long) != row_key(long + "y")


def test_every_window_of_a_limit_is_decided_in_one_call(engine: Engine) -> None:
    """Each window counts a hit while it has room, as flask-limiter's fail_on_first_breach=False
    does: a request the minute refuses still counts in the hour (refusals are not free)."""
    clock = Clock(1_800_000_000.0)  # the start of a minute and of an hour
    storage = SqlRateLimitStorage(engine=engine, clock=clock)
    minute, hour = parse("2/minute"), parse("5/hour")
    refusals = [hit_windows(storage, [minute, hour], ("k",)) for _ in range(4)]
    assert refusals == [[], [], [minute], [minute]]
    clock.now += 120  # the minute's windows are gone; the hour holds all four
    assert hit_windows(storage, [minute, hour], ("k",)) == []
    assert hit_windows(storage, [minute, hour], ("k",)) == [hour]
    counts = SlidingWindowCounterRateLimiter(storage)
    assert counts.get_window_stats(hour, "k").remaining == 0
    assert counts.get_window_stats(minute, "k").remaining == 0  # the minute had room for it


def test_racing_hits_on_two_windows_never_pass_either(engine: Engine) -> None:
    """Eight threads, 10 requests each, at 20 an hour and 60 a day: exactly 20 get through,
    and the day counts the first 60 (PostgreSQL re-checks the room on the row it locked)."""
    storage = SqlRateLimitStorage(engine=engine)
    hour, day = parse("20/hour"), parse("60/day")
    barrier = threading.Barrier(8)
    refusals: list[list[RateLimitItem]] = []

    def hammer() -> None:
        barrier.wait()
        refusals.extend(hit_windows(storage, [hour, day], ("burst",)) for _ in range(10))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refusals) == 80
    assert refusals.count([]) == 20
    counts = SlidingWindowCounterRateLimiter(storage)
    assert counts.get_window_stats(hour, "burst").remaining == 0
    assert storage.get_sliding_window(day.key_for("burst"), day.get_expiry())[2] == 60


def test_a_window_given_twice_is_refused(engine: Engine) -> None:
    storage = SqlRateLimitStorage(engine=engine)
    with pytest.raises(ValueError, match="twice"):
        storage.acquire_sliding_window_entries([("k", 5, 60), ("k", 5, 60)])


def test_a_hit_larger_than_the_limit_is_refused_without_counting(engine: Engine) -> None:
    storage = SqlRateLimitStorage(engine=engine)
    assert storage.acquire_sliding_window_entries([("a", 2, 60), ("b", 5, 60)], 3) == [
        False,
        True,
    ]
    assert rows(engine) == 1


@pytest.fixture
def redis_storage() -> Iterator[RedisStorage]:
    """limits' own Redis storage, as flask-limiter builds it, under a prefix of its own."""
    if REDIS_URL is None:
        pytest.skip("REDIS_URL is not set")
    options: dict[str, Any] = {"key_prefix": f"authsvc-test:{secrets.token_hex(6)}:limits"}
    storage = storage_from_string(REDIS_URL, **options)
    assert isinstance(storage, RedisStorage)
    yield storage
    storage.reset()


@pytest.mark.redis
def test_redis_windows_are_limits_own_counters(redis_storage: RedisStorage) -> None:
    """The pipelined hits use limits' own script and keys: its strategy reads what they
    counted, and a hit through the strategy counts in the same windows."""
    minute, hour = parse("2/minute"), parse("5/hour")
    strategy = SlidingWindowCounterRateLimiter(redis_storage)
    assert strategy.hit(minute, "k")
    assert hit_windows(redis_storage, [minute, hour], ("k",)) == []
    assert hit_windows(redis_storage, [minute, hour], ("k",)) == [minute]
    assert strategy.get_window_stats(minute, "k").remaining == 0
    assert strategy.get_window_stats(hour, "k").remaining == 3  # the refused one counted


@pytest.mark.redis
def test_redis_windows_survive_a_server_that_lost_its_scripts(
    redis_storage: RedisStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NOSCRIPT (a restart, SCRIPT FLUSH) counts nothing; limits' own calls load it again."""
    script = redis_storage.lua_acquire_sliding_window
    monkeypatch.setattr(script, "sha", "0" * 40)  # a script this server has never seen
    minute, hour = parse("1/minute"), parse("5/hour")
    assert hit_windows(redis_storage, [minute, hour], ("k",)) == []
    assert hit_windows(redis_storage, [minute, hour], ("k",)) == [minute]
    assert script.sha != "0" * 40  # loaded again, under its real digest


def test_an_unreachable_redis_is_a_storage_error() -> None:
    """As limits' own calls do with wrap_exceptions (the web layer answers 503)."""
    storage = storage_from_string("redis://127.0.0.1:1/0", wrap_exceptions=True)
    assert isinstance(storage, RedisStorage)
    with pytest.raises(StorageError):
        hit_windows(storage, [parse("1/minute"), parse("1/hour")], ("k",))
