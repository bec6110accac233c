"""Fixtures of the metadata tests: the FIDO root, and blob-122 verified and indexed once.

Reading blob-122 through fido2's dataclasses takes about a second, so the real-data facts
share one verified copy instead of paying that per test.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.metadata import VerifiedBlob, index_blob, verify_blob
from authsvc.trust.metadata_index import MetadataIndex
from tests.shared import MDS
from tests.unit.metadata.blobs import Signer, make_signer

#: Times at which each real BLOB's chain is valid (mds/README.md).
BLOB_122_AT = datetime.fromisoformat("2024-12-20T00:00:00Z")
BLOB_9_AT = datetime.fromisoformat("2021-11-15T00:00:00Z")


@pytest.fixture(scope="session")
def fido_root() -> TrustAnchors:
    return TrustAnchors.from_pem_files([MDS / "fido-root-r3.pem"])


@pytest.fixture(scope="session")
def blob_122(fido_root: TrustAnchors) -> VerifiedBlob:
    return verify_blob((MDS / "blob-122.jwt").read_bytes(), root=fido_root, at=BLOB_122_AT)


@pytest.fixture(scope="session")
def index_122(blob_122: VerifiedBlob) -> MetadataIndex:
    return index_blob(blob_122)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return make_signer()
