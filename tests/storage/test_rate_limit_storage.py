"""The SQL rate-limit storage: atomic counters, expiry, sweeping, the sliding window."""

from __future__ import annotations

import threading
from typing import Any

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import Engine, func, select

from authsvc.storage.models import rate_limits
from authsvc.storage.rate_limits import SWEEP_INTERVAL, SqlRateLimitStorage, row_key


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
