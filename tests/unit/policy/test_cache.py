"""PolicyCache: parsed once, bounded, safe across threads."""

from __future__ import annotations

import threading

import pytest

from authsvc.policy import cache as cache_module
from authsvc.policy.cache import PolicyCache
from authsvc.policy.document import parse_policy
from authsvc.policy.errors import PolicyInvalid
from authsvc.policy.model import Policy

DOC = {"user_verification": "required"}


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the documents the cache parses."""
    seen: list[str] = []

    def counting(doc: object, *, name: str, version: int) -> Policy:
        seen.append(f"{name} v{version}")
        return parse_policy(doc, name=name, version=version)

    monkeypatch.setattr(cache_module, "parse_policy", counting)
    return seen


def test_a_policy_is_parsed_once(parses: list[str]) -> None:
    cache = PolicyCache()
    assert cache.get(7) is None
    first = cache.put(7, DOC, name="staff", version=2)
    assert cache.get(7) is first
    assert first.user_verification == "required"
    assert parses == ["staff v2"]


def test_keys_may_be_name_and_version(parses: list[str]) -> None:
    cache = PolicyCache()
    policy = cache.put(("staff", 2), DOC, name="staff", version=2)
    assert cache.get(("staff", 2)) is policy
    assert parses == ["staff v2"]
    with pytest.raises(ValueError, match="does not match"):
        cache.put(("staff", 3), DOC, name="staff", version=2)


def test_the_least_recently_used_entry_is_dropped() -> None:
    cache = PolicyCache(max_entries=2)
    for row in (1, 2):
        cache.put(row, {}, name="p", version=row)
    assert cache.get(1) is not None  # 1 is now more recent than 2
    cache.put(3, {}, name="p", version=3)
    assert len(cache) == 2
    assert cache.get(2) is None
    assert cache.get(1) is not None
    cache.clear()
    assert len(cache) == 0


def test_an_invalid_document_is_not_cached() -> None:
    cache = PolicyCache()
    for _ in range(2):
        with pytest.raises(PolicyInvalid):
            cache.put(1, {"user_verification": "always"}, name="p", version=1)
    assert len(cache) == 0


def test_a_cache_needs_room() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        PolicyCache(max_entries=0)


def test_threads_share_the_cache_safely() -> None:
    cache = PolicyCache(max_entries=8)
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(200):
                row = (worker + i) % 12
                got = cache.get(row) or cache.put(row, DOC, name="p", version=row + 1)
                assert got.version == row + 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(cache) <= 8
