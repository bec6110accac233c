"""The index: facts derived from entries, lookups, and the real data of blob-122."""

from __future__ import annotations

from collections import Counter

import pytest
from cryptography import x509

from authsvc.trust.metadata import VerifiedBlob, index_blob, verify_blob
from authsvc.trust.metadata_index import (
    MetadataIndex,
    describe_statement,
    modality,
    status_facts,
)
from tests.unit.metadata.blobs import Signer, biometric_report, entry, payload
from tests.unit.trust.builders import T0, duplicate_basic_constraints, issue, issue_v1

KEY_ID = "ab" * 20

COMPROMISED = [
    # aaguid suffix, reports (in the order the BLOB lists them), latest status, level
    ("01", [("FIDO_CERTIFIED_L2", "2022-01-01"), ("REVOKED", "2023-01-01")], "REVOKED", 0),
    (
        "02",
        [("ATTESTATION_KEY_COMPROMISE", "2023-03-01"), ("FIDO_CERTIFIED_L1", "2022-01-01")],
        "ATTESTATION_KEY_COMPROMISE",
        1,
    ),
    (
        "03",
        [("FIDO_CERTIFIED_L1plus", "2022-01-01"), ("USER_VERIFICATION_BYPASS", "2024-01-01")],
        "USER_VERIFICATION_BYPASS",
        1,
    ),
    (
        "04",
        [("FIDO_CERTIFIED_L3plus", "2021-01-01"), ("USER_KEY_REMOTE_COMPROMISE", "2024-01-01")],
        "USER_KEY_REMOTE_COMPROMISE",
        3,
    ),
    (
        "05",
        [("NOT_FIDO_CERTIFIED", "2020-01-01"), ("USER_KEY_PHYSICAL_COMPROMISE", "2024-01-01")],
        "USER_KEY_PHYSICAL_COMPROMISE",
        0,
    ),
    # a same-day REVOKED is never hidden behind a certification listed after it
    ("06", [("REVOKED", "2024-05-05"), ("FIDO_CERTIFIED_L1", "2024-05-05")], "REVOKED", 0),
    # re-certified after a REVOKED: the later report wins
    (
        "07",
        [("REVOKED", "2022-01-01"), ("FIDO_CERTIFIED_L2plus", "2023-01-01")],
        "FIDO_CERTIFIED_L2plus",
        2,
    ),
    # an UPDATE_AVAILABLE notice does not withdraw the certification
    (
        "08",
        [("FIDO_CERTIFIED_L3", "2022-01-01"), ("UPDATE_AVAILABLE", "2023-01-01")],
        "UPDATE_AVAILABLE",
        3,
    ),
]


def aaguid(suffix: str) -> str:
    return f"5ea10000-0000-4000-8000-0000000000{suffix}"


@pytest.fixture(scope="module")
def synthetic(signer: Signer) -> tuple[VerifiedBlob, MetadataIndex]:
    """One signed BLOB with every status of interest, a biometric entry and odd cases."""
    attestation_root = issue("Vendor Attestation Root", ca=True).der
    not_a_ca = issue("Vendor Leaf", ca=False).der
    entries = [entry(f"Model {s}", reports, aaguid=aaguid(s)) for s, reports, _, _ in COMPROMISED]
    entries += [
        entry(
            "Biometric Key",
            [("FIDO_CERTIFIED_L2", "2023-02-01")],
            aaguid=aaguid("10"),
            far=0.0001,
            roots=[attestation_root, not_a_ca, b"\x30\x03garbage"],
            biometricStatusReports=[biometric_report()],
        ),
        entry("U2F Key", [("FIDO_CERTIFIED", "2019-01-01")], key_ids=[KEY_ID]),
        entry(
            "Future Key",
            [("SOMETHING_NEW", "2030-01-01"), ("REVOKED", "2030-02-01")],
            aaguid=aaguid("11"),
        ),
        entry(
            "Zero AAGUID",
            [("FIDO_CERTIFIED", "2019-01-01")],
            aaguid="0" * 8 + "-0000-0000-0000-" + "0" * 12,
        ),
    ]
    verified = verify_blob(signer.sign(payload(entries)), root=signer.anchors, at=T0)
    return verified, index_blob(verified)


@pytest.mark.parametrize(("suffix", "reports", "latest", "level"), COMPROMISED)
def test_statuses_of_signed_entries(
    synthetic: tuple[VerifiedBlob, MetadataIndex],
    suffix: str,
    reports: list[tuple[str, str]],
    latest: str,
    level: int,
) -> None:
    found = synthetic[1].by_aaguid(aaguid(suffix))
    assert found is not None
    assert found.metadata.latest_status == latest
    assert found.metadata.certification_level == level
    assert found.metadata.statuses[-1] == latest
    assert sorted(found.metadata.statuses) == sorted(status for status, _ in reports)


def test_biometric_entry_is_read_in_full(synthetic: tuple[VerifiedBlob, MetadataIndex]) -> None:
    """Spec-shaped biometricStatusReports would sink the entry in fido2; it must not."""
    index = synthetic[1]
    found = index.by_aaguid(aaguid("10").upper())
    assert found is not None and found.entry is not None
    assert (found.metadata.latest_status, found.metadata.certification_level) == (
        "FIDO_CERTIFIED_L2",
        2,
    )
    assert found.metadata.modalities == {"none", "presence", "fingerprint"}
    assert found.metadata.worst_far == 0.0001
    assert (len(found.roots), found.unusable_roots) == (1, 2)
    assert found.roots.roots[0].subject.rfc4514_string() == "CN=Vendor Attestation Root"


def test_self_signed_v1_roots_are_kept(signer: Signer) -> None:
    """A v1 root is an anchor if self-signed; a v1 issued by another and a root whose
    extensions do not parse (DuplicateExtension, which once escaped the build) are not."""
    v1_root = issue_v1("Vendor V1 Root")
    roots = [
        v1_root.der,
        issue_v1("Vendor V1 Leaf", issuer=issue("Vendor CA", ca=True)).der,
        duplicate_basic_constraints("Vendor Broken Root").der,
    ]
    entries = [
        entry("V1 Key", [("FIDO_CERTIFIED", "2023-01-01")], aaguid=aaguid("20"), roots=roots)
    ]
    index = index_blob(verify_blob(signer.sign(payload(entries)), root=signer.anchors, at=T0))
    found = index.by_aaguid(aaguid("20"))
    assert found is not None
    assert (found.roots.roots, found.unusable_roots) == ((v1_root.cert,), 2)


def test_u2f_entry_by_key_identifier(synthetic: tuple[VerifiedBlob, MetadataIndex]) -> None:
    found = synthetic[1].by_key_identifier(KEY_ID.upper())
    assert found is not None
    assert (found.metadata.description, found.metadata.aaguid) == ("U2F Key", None)


def test_an_entry_fido2_cannot_read_still_refuses(
    synthetic: tuple[VerifiedBlob, MetadataIndex],
) -> None:
    """An unknown status makes fido2 give up; the REVOKED beside it must still count."""
    verified, index = synthetic
    assert [u.aaguid for u in verified.unparsed] == [aaguid("11")]
    found = index.by_aaguid(aaguid("11"))
    assert found is not None and found.entry is None
    assert found.metadata.latest_status == "REVOKED"
    assert found.metadata.description == "Future Key"
    assert len(found.roots) == 0  # it can refuse an authenticator, never prove one


def test_zero_aaguid_is_not_a_model(synthetic: tuple[VerifiedBlob, MetadataIndex]) -> None:
    index = synthetic[1]
    assert index.by_aaguid("00000000-0000-0000-0000-000000000000") is None
    assert len(index) == len(COMPROMISED) + 4
    assert index.aaguid_count == len(COMPROMISED) + 2


def test_status_facts_of_nothing() -> None:
    assert status_facts([]) == ((), None, 0)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("fingerprint_internal", "fingerprint"),
        ("faceprint_internal", "face"),
        ("passcode_internal", "passcode"),
        ("passcode_external", "passcode"),
        ("presence_internal", "presence"),
        ("voiceprint_internal", "voice"),
        ("eyeprint_internal", "eyeprint"),
        ("handprint_internal", "handprint"),
        ("pattern_internal", "pattern"),
        ("pattern_external", "pattern"),
        ("location_internal", "location"),
        ("none", "none"),
        ("all", "all"),
    ],
)
def test_modality_names(method: str, expected: str) -> None:
    assert modality(method) == expected


# --- real data: blob-122 -----------------------------------------------------------------


def test_blob_122_counts(index_122: MetadataIndex) -> None:
    assert len(index_122) == 281
    assert index_122.aaguid_count == 189
    assert (index_122.no, index_122.next_update.isoformat()) == (122, "2025-01-01")
    assert index_122.source == "blob no 122 (sha256 9b8a4b7c41e8)"
    assert index_122.load_seconds > 0


def test_truu_windows_authenticator_is_revoked(index_122: MetadataIndex) -> None:
    found = index_122.by_aaguid("ba86dc56-635f-4141-aef6-00227b1b9af6")
    assert found is not None
    assert found.metadata.description == "TruU Windows Authenticator"
    assert (found.metadata.latest_status, found.metadata.certification_level) == ("REVOKED", 0)


@pytest.mark.parametrize(
    ("aaguid_", "description", "far"),
    [
        ("e416201b-afeb-41ca-a03d-2281c28322aa", "ATKey.Pro CTAP2.1", 2e-05),
        ("d8522d9f-575b-4866-88a9-ba99fa02f35b", "YubiKey Bio Series", None),  # all 0.0
        ("6002f033-3c07-ce3e-d0f7-0ffe5ed42543", "Excelsecu eSecu FIDO2 Fingerprint Key", 0.01),
    ],
)
def test_biometric_models(
    index_122: MetadataIndex, aaguid_: str, description: str, far: float | None
) -> None:
    found = index_122.by_aaguid(aaguid_)
    assert found is not None
    assert found.metadata.description == description
    assert "fingerprint" in found.metadata.modalities
    assert found.metadata.worst_far == far
    assert found.metadata.certification_level == 1
    assert found.metadata.from_mds
    assert len(found.roots) >= 1


def test_u2f_key_identifier_lookup(index_122: MetadataIndex) -> None:
    found = index_122.by_key_identifier("f4b64a68c334e901b8e23c6e66e6866c31931f5d")
    assert found is not None
    assert found.metadata.description == "Feitian ePass FIDO-NFC Security Key"
    assert found.metadata.aaguid is None


def test_attestation_roots_are_anchors(index_122: MetadataIndex) -> None:
    """YubiKey 5 entries list the Yubico U2F root; unusable roots are counted, not fatal."""
    found = index_122.by_aaguid("cb69481e-8ff7-4039-93ec-0a2729a154a8")
    assert found is not None
    names = [
        r.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        for r in found.roots.roots
    ]
    assert "Yubico U2F Root CA Serial 457200631" in names


def test_blob_122_unusable_roots(blob_122: VerifiedBlob, index_122: MetadataIndex) -> None:
    """46 listed roots were unusable before v1 roots were accepted: 7 DER with trailing
    bytes, 15 self-signed v1 roots (9 distinct, SoloKeys among them), 24 v3 non-CAs."""
    indexed = {}
    for item in blob_122.payload.entries:
        found = index_122.by_aaguid(str(item.aaguid)) if item.aaguid else None
        for key in item.attestation_certificate_key_identifiers or ():
            found = found or index_122.by_key_identifier(key.hex())
        if found is not None:
            indexed[id(found)] = found
    assert sum(found.unusable_roots for found in indexed.values()) == 31
    v1_roots = [
        r for found in indexed.values() for r in found.roots.roots if r.version.name == "v1"
    ]
    assert len(v1_roots) == 15
    solo = index_122.by_aaguid("8876631b-d4a0-427f-5773-0ec71c9e0279")
    assert solo is not None
    assert solo.metadata.description == "Solo Secp256R1 FIDO2 CTAP2 Authenticator"
    assert (len(solo.roots), solo.unusable_roots) == (1, 0)
    assert solo.roots.roots[0].version is x509.Version.v1


def test_blob_122_latest_statuses_match_the_readme(blob_122: VerifiedBlob) -> None:
    """mds/README.md counts the latest report per entry; same-day ties go to the level."""
    latest = Counter(
        describe_statement(item, item.metadata_statement).latest_status
        for item in blob_122.payload.entries
    )
    assert latest == {
        "FIDO_CERTIFIED_L1": 155,
        "NOT_FIDO_CERTIFIED": 62,
        "FIDO_CERTIFIED_L2": 45,
        "FIDO_CERTIFIED": 18,
        "REVOKED": 1,
    }
