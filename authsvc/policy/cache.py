"""A small, thread-safe cache of parsed policies, so a sign-in never re-parses a document.

Policies are evaluated at every sign-in, and parsing a document checks up to hundreds of
AAGUIDs. Because a stored policy is never edited (a change is a new version, see
:mod:`authsvc.policy.model`), a parsed policy can be kept for as long as there is room,
keyed by ``(name, version)`` or by the stored row's id (policy rows are never deleted,
so an id is never reused). A hit costs no query and no parse.

Least recently used entries are dropped beyond ``max_entries``, so a flood of versions
cannot grow memory without bound. Parsing happens outside the lock: two threads may parse
the same document at once, which is harmless, while one slow parse never blocks other
sign-ins. Invalid documents are not cached; :class:`~authsvc.policy.errors.PolicyInvalid`
propagates every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from authsvc.policy.document import parse_policy
from authsvc.policy.model import Policy

PolicyKey = tuple[str, int] | int


class PolicyCache:
    """Parsed policies by ``(name, version)`` or row id, least recently used dropped first."""

    def __init__(self, max_entries: int = 256) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._entries: OrderedDict[PolicyKey, Policy] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: PolicyKey) -> Policy | None:
        with self._lock:
            policy = self._entries.get(key)
            if policy is not None:
                self._entries.move_to_end(key)
            return policy

    def put(self, key: PolicyKey, document: object, *, name: str, version: int) -> Policy:
        """Parse ``document`` (outside the lock), keep it under ``key`` and return it.

        Raises :class:`~authsvc.policy.errors.PolicyInvalid` for an invalid document, and
        ``ValueError`` when a ``(name, version)`` key disagrees with ``name``/``version``.
        """
        if isinstance(key, tuple) and key != (name, version):
            raise ValueError("the cache key does not match the policy's name and version")
        policy = parse_policy(document, name=name, version=version)
        with self._lock:
            self._entries[key] = policy
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return policy

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
