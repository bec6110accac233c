"""The signing key set as one process sees it: read once, cached, kept in step with the others.

Parsing (unsealing and importing) a key costs far more than verifying a token, so the set
is read and parsed once per process and reused. Another instance may rotate at any time, so
the cache is re-read when a token names a ``kid`` it does not hold (at most once a second,
so a flood of made-up kids costs one small read a second, not one per request), and the
active key is re-checked at most every :data:`RECHECK_SECONDS`: a token signed here with a
key another instance just retired is still valid (a retired key verifies until its tokens
expire), so that much lag is safe.

The first key is made on first need. Two instances starting at once may each make one; the
newest signs everywhere once they re-read, and the other stays published (unretired) until
the next rotation retires both.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Final

from joserfc.jwk import ECKey
from sqlalchemy import Connection, Engine

from authsvc.settings import Settings
from authsvc.storage import signing_keys as store
from authsvc.storage.db import transaction
from authsvc.storage.dpop_replay import ReplayStore, make_replay_store
from mobile_bridge.dpop import Nonces
from mobile_bridge.signing_keys import (
    KeySet,
    SealedKeyInvalid,
    SigningKey,
    generate,
    seal,
    sealing_key,
    unseal,
)

log = logging.getLogger(__name__)

RECHECK_SECONDS: Final = 30.0
UNKNOWN_KID_RELOAD_SECONDS: Final = 1.0


class TokenKeys:
    """The cached key set of one process; thread-safe."""

    def __init__(self, engine: Engine, secret_key: str, access_token_ttl: int) -> None:
        self._engine = engine
        self._sealing = sealing_key(secret_key)
        self._ttl = access_token_ttl
        self._lock = threading.Lock()
        self._set = KeySet(())
        self._read_at = float("-inf")
        self._unknown_read_at = float("-inf")

    def _reload(self, conn: Connection, now: float) -> KeySet:
        """Read and open every stored key; one that does not open is left out, and logged.

        A key sealed under another ``SECRET_KEY`` (it was changed) can neither sign nor be
        trusted to verify: its tokens are refused, a new key is made on first need, and
        the next rotation drops the old one for good.
        """
        keys = []
        for k in store.all_keys(conn):
            try:
                keys.append(
                    unseal(
                        k.kid,
                        k.sealed,
                        self._sealing,
                        created_at=k.created_at,
                        retired_at=k.retired_at,
                    )
                )
            except SealedKeyInvalid:
                log.warning("signing key %s does not open under SECRET_KEY; ignored", k.kid)
        self._set = KeySet(tuple(keys))
        self._read_at = now
        return self._set

    def current(self, now: float, conn: Connection | None = None) -> KeySet:
        """The set, re-read (in ``conn``, or a transaction of its own) when it is stale."""
        with self._lock:
            if now - self._read_at < RECHECK_SECONDS:
                return self._set
            if conn is not None:
                return self._reload(conn, now)
            with transaction(self._engine) as own:
                return self._reload(own, now)

    def signing_key(self, conn: Connection, now: float) -> SigningKey:
        """The active key, read in the caller's transaction (a sign-in's, a refresh's).

        The first key is made here, in that transaction, and kept out of the cache: if
        the transaction rolls back, no token it signed was handed out, and the next use
        reads the store again rather than sign with a key nobody can verify.
        """
        active = self.current(now, conn).active
        if active is not None:
            return active
        key = generate(now)
        store.add(conn, kid=key.kid, sealed=seal(key, self._sealing), created_at=now)
        with self._lock:
            self._read_at = float("-inf")
        return key

    def verification_key(self, kid: str, now: float) -> ECKey | None:
        """The public key ``kid`` names, if a token signed with it can still be valid."""
        key = self.current(now).by_kid(kid)
        if key is None:
            with self._lock:
                if now - self._unknown_read_at >= UNKNOWN_KID_RELOAD_SECONDS:
                    self._unknown_read_at = now
                    with transaction(self._engine) as conn:
                        key = self._reload(conn, now).by_kid(kid)
        if key is None:
            return None
        until = key.published_until(self._ttl)
        return key.key if until is None or now < until else None

    def published(self, now: float) -> list[SigningKey]:
        """What ``/.well-known/jwks.json`` lists: the active key and those still needed."""
        return self.current(now).published(now, self._ttl)

    def rotate(self, conn: Connection, now: float) -> Rotation:
        """Make a new active key, retire the old one, drop those no token can name any more.

        In ``conn``'s transaction; this process's cache is re-read at its next use, the
        other instances' within :data:`RECHECK_SECONDS`.
        """
        stored = store.all_keys(conn)
        with self._lock:
            opened = {k.kid for k in self._reload(conn, now).keys}
            self._read_at = float("-inf")  # re-read after this transaction commits
        dropped = sorted(
            k.kid
            for k in stored
            if k.kid not in opened  # sealed under an earlier SECRET_KEY: useless
            or (k.retired_at is not None and now >= k.retired_at + self._ttl)
        )
        store.drop(conn, dropped)
        retired = store.retire_active(conn, now)
        key = generate(now)
        store.add(conn, kid=key.kid, sealed=seal(key, self._sealing), created_at=now)
        return Rotation(key.kid, retired, dropped)


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did: the new signing key, the keys it retired and those it dropped."""

    new_kid: str
    retired: list[str]
    dropped: list[str]


@dataclass(frozen=True, slots=True)
class TokenKit:
    """What token sessions need per process: the key cache, the nonces, the replay store."""

    keys: TokenKeys
    nonces: Nonces
    replay: ReplayStore

    @classmethod
    def build(cls, engine: Engine, settings: Settings) -> TokenKit:
        return cls(
            keys=TokenKeys(engine, settings.secret_key, settings.access_token_ttl),
            nonces=Nonces.from_secret(settings.secret_key),
            replay=make_replay_store(engine, settings.redis_url, settings.redis_prefix),
        )
