"""A stored BLOB is judged as of the service clock, not the machine's.

The clock a :class:`MetadataHolder` is given decides whether a stored BLOB's chain and
nextUpdate still hold: the same real BLOB (no. 9, signed in 2021) is used when the clock
says 2021 and refused, with the last good index kept, when it says today.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from sqlalchemy import Engine

from authsvc.services.metadata import MetadataHolder
from authsvc.storage import metadata_blobs
from authsvc.storage.db import transaction
from authsvc.trust.anchors import TrustAnchors
from tests.shared import MDS

BLOB_9 = (MDS / "blob-9.jwt").read_bytes()
#: a day on which blob 9's chain is valid and its nextUpdate not passed (mds/README.md)
BLOB_9_AT = datetime.fromisoformat("2021-11-15T00:00:00Z")


def _store_blob_9(engine: Engine) -> None:
    with transaction(engine) as conn:
        metadata_blobs.store(
            conn,
            blob=BLOB_9,
            sha256=hashlib.sha256(BLOB_9).hexdigest(),
            no=9,
            next_update=BLOB_9_AT.date(),
            source="blob-9.jwt",
            loaded_at=BLOB_9_AT,
        )


def _holder(engine: Engine, at: datetime) -> MetadataHolder:
    return MetadataHolder(
        engine=engine,
        mds_root=TrustAnchors.from_pem_files([MDS / "fido-root-r3.pem"]),
        names_file=None,
        clock=at.timestamp,
    )


def test_a_stored_blob_is_used_when_the_clock_says_it_is_current(engine: Engine) -> None:
    _store_blob_9(engine)
    holder = _holder(engine, BLOB_9_AT)
    assert holder.last_refusal is None
    assert holder.index.no == 9
    assert holder.status().stale is False


def test_the_same_blob_is_refused_when_the_clock_says_today(engine: Engine) -> None:
    _store_blob_9(engine)
    holder = _holder(engine, datetime.fromtimestamp(time.time(), UTC))
    assert holder.last_refusal is not None
    assert holder.last_refusal.startswith("stored BLOB ")
    assert holder.index.no != 9  # the packaged statements stay in use
