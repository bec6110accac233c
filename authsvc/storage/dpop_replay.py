"""Where the ``jti`` of every accepted DPoP proof is remembered, so none is used twice.

RFC 9449 §11.1: a proof may be replayed by whoever saw it, within its ``iat`` window, so
the service keeps each accepted proof's ``jti`` (as SHA-256 of the key's thumbprint and the
``jti``: one client's ids cannot collide with another's) until the window has passed.

As for ceremony challenges, the one property that matters is that two instances racing on
the same proof cannot both accept it, and both stores get it from one atomic command: SQL
``INSERT … ON CONFLICT DO NOTHING`` (a row inserted means first use), Redis ``SET NX EX``.
The record is written in its own transaction, before the request does anything else: a
proof is spent once shown, whatever becomes of its request.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final, Protocol

from sqlalchemy import Engine, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from authsvc.errors import Unavailable
from authsvc.storage.db import REDIS_DOWN, transaction
from authsvc.storage.models import dpop_proofs
from authsvc.storage.prepared import Prepared
from authsvc.storage.sweeping import SweepSchedule

if TYPE_CHECKING:
    import redis

_VALUES: Final[dict[str, Any]] = {
    "jti_hash": bindparam("b_hash"),
    "expires_at": bindparam("b_expires_at"),
}
_INSERT: Final = {
    "postgresql": Prepared(postgresql.insert(dpop_proofs).values(_VALUES).on_conflict_do_nothing()),
    "sqlite": Prepared(sqlite.insert(dpop_proofs).values(_VALUES).on_conflict_do_nothing()),
}
_SWEEP: Final = delete(dpop_proofs).where(dpop_proofs.c.expires_at < bindparam("b_before"))


class ReplayStore(Protocol):
    def first_use(self, key: bytes, *, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at``; False if it was recorded already.

        Raises :class:`Unavailable` if the store cannot be reached.
        """


class SqlReplayStore:
    """Proof ids in the ``dpop_proofs`` table (the default, and with PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sweeps = SweepSchedule()

    def first_use(self, key: bytes, *, expires_at: float, now: float) -> bool:
        with transaction(self._engine) as conn:
            inserted = _INSERT[conn.dialect.name].rowcount(
                conn, {"b_hash": key, "b_expires_at": expires_at}
            )
            if self._sweeps.due(now):
                conn.execute(_SWEEP, {"b_before": now})
            return inserted == 1


class RedisReplayStore:
    """Proof ids as Redis keys ``<prefix>dpop:<hex>`` that expire on their own."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def first_use(self, key: bytes, *, expires_at: float, now: float) -> bool:
        ttl = max(1, math.ceil(expires_at - now))
        try:
            stored = self._client.set(f"{self._prefix}dpop:{key.hex()}", b"1", nx=True, ex=ttl)
        except REDIS_DOWN as exc:
            raise Unavailable("the DPoP replay store is unavailable") from exc
        return bool(stored)


def make_replay_store(engine: Engine, redis_url: str | None, prefix: str) -> ReplayStore:
    """Redis at ``redis_url`` if given, else the database behind ``engine``."""
    if not redis_url:
        return SqlReplayStore(engine)
    import redis  # noqa: PLC0415 - optional dependency, only needed with REDIS_URL

    client = redis.Redis.from_url(
        redis_url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
    )
    return RedisReplayStore(client, prefix)
