"""When to sweep expired rows: at most once a minute per process, whatever the traffic.

Challenges, sessions and rate-limit counters all expire by time and are deleted by one
indexed range delete. Running it on every write would add a statement to every sign-in;
running it from a timer would need a thread per process. So each store sweeps from inside a
write it is doing anyway, when this schedule says one is due.
"""

from __future__ import annotations

import threading
from typing import Final

SWEEP_INTERVAL: Final = 60.0


class SweepSchedule:
    """Says "due" at most once per ``interval`` seconds, to one caller among threads."""

    def __init__(self, interval: float = SWEEP_INTERVAL) -> None:
        self._interval = interval
        self._next = 0.0
        self._lock = threading.Lock()

    def due(self, now: float) -> bool:
        with self._lock:
            if now < self._next:
                return False
            self._next = now + self._interval
            return True
