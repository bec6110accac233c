"""The real FIDO BLOBs: accepted at a time their chain was valid, refused at any other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509

from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.metadata import MetadataRefused, VerifiedBlob, verify_blob
from tests.shared import MDS
from tests.unit.metadata.conftest import BLOB_9_AT, BLOB_122_AT
from tests.unit.trust.builders import YEAR, issue

#: The day these files were gathered, when both chains had already expired.
TODAY = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def blob(name: str) -> bytes:
    return (MDS / name).read_bytes()


def flip(data: bytes, position: int) -> bytes:
    """Replace one base64url character by another, so the JWS stays well-formed."""
    replacement = b"A" if data[position : position + 1] != b"A" else b"B"
    return data[:position] + replacement + data[position + 1 :]


def test_blob_122_verifies_at_its_time(blob_122: VerifiedBlob) -> None:
    assert blob_122.no == 122
    assert blob_122.next_update.isoformat() == "2025-01-01"
    assert blob_122.legal_header.startswith("Retrieval and use of this BLOB")
    assert blob_122.sha256 == "9b8a4b7c41e8898a60233d083c47c218e4b4ab1d48ebe52fa4d609dedf3e7932"
    assert len(blob_122.payload.entries) == 281
    assert blob_122.unparsed == ()


def test_blob_9_verifies_at_its_time(fido_root: TrustAnchors) -> None:
    verified = verify_blob(blob("blob-9.jwt"), root=fido_root, at=BLOB_9_AT)
    assert (verified.no, verified.next_update.isoformat()) == (9, "2021-12-01")
    assert len(verified.payload.entries) == 98
    assert verified.sha256.startswith("42d80df8c252")


@pytest.mark.parametrize(
    ("name", "until"),
    [("blob-122.jwt", "2025-07-28T20:17:03+00:00"), ("blob-9.jwt", "2022-05-14T19:57:24+00:00")],
)
def test_both_blobs_are_refused_today(fido_root: TrustAnchors, name: str, until: str) -> None:
    with pytest.raises(MetadataRefused) as refused:
        verify_blob(blob(name), root=fido_root, at=TODAY)
    assert refused.value.reason == (
        "BLOB chain does not reach the FIDO root at 2026-11-24T12:00:00+00:00: certificate has "
        f"expired: x5c[0] 'mds.fidoalliance.org' was valid until {until}"
    )


def test_before_the_leaf_was_issued_is_refused(fido_root: TrustAnchors) -> None:
    with pytest.raises(MetadataRefused, match="not yet valid: x5c\\[0\\]"):
        verify_blob(blob("blob-122.jwt"), root=fido_root, at=datetime(2024, 6, 1, tzinfo=UTC))


def test_blob_122_past_next_update_is_refused(fido_root: TrustAnchors) -> None:
    """On 2025-01-02 the chain is still valid but a newer BLOB was due the day before."""
    with pytest.raises(MetadataRefused) as refused:
        verify_blob(blob("blob-122.jwt"), root=fido_root, at=datetime(2025, 1, 2, tzinfo=UTC))
    assert refused.value.reason == (
        "BLOB is past its nextUpdate 2025-01-01 (checked on 2025-01-02)"
    )


def test_next_update_day_is_taken_in_utc(fido_root: TrustAnchors) -> None:
    """10:00 on 2 January at UTC+14 is still 1 January in UTC: the BLOB is current."""
    at = datetime(2025, 1, 2, 10, 0, tzinfo=timezone(timedelta(hours=14)))
    assert verify_blob(blob("blob-122.jwt"), root=fido_root, at=at).no == 122


def test_one_byte_of_the_payload_changed_is_refused(fido_root: TrustAnchors) -> None:
    data = blob("blob-9.jwt")
    position = data.index(b".") + 5000
    with pytest.raises(MetadataRefused, match=r"^BLOB signature does not verify$"):
        verify_blob(flip(data, position), root=fido_root, at=BLOB_9_AT)


@pytest.mark.parametrize("from_end", [1, 2, 100])
def test_one_byte_of_the_signature_changed_is_refused(
    fido_root: TrustAnchors, from_end: int
) -> None:
    """The last character carries unused bits: it is refused as non-canonical, not ignored."""
    data = blob("blob-9.jwt")
    with pytest.raises(MetadataRefused, match=r"^BLOB signature"):
        verify_blob(flip(data, len(data) - from_end), root=fido_root, at=BLOB_9_AT)


def test_a_root_of_our_own_is_refused() -> None:
    """Same name as the FIDO root, valid at the time, but another key: no path."""
    own = issue(
        x509.Name.from_rfc4514_string("CN=GlobalSign,O=GlobalSign,OU=GlobalSign Root CA - R3"),
        ca=True,
        not_before=BLOB_122_AT - YEAR,
        not_after=BLOB_122_AT + YEAR,
    )
    with pytest.raises(MetadataRefused, match="no valid path from x5c to the trust root"):
        verify_blob(blob("blob-122.jwt"), root=TrustAnchors((own.cert,)), at=BLOB_122_AT)


def test_an_unrelated_root_is_named_in_the_refusal() -> None:
    other = TrustAnchors((issue("Some Other Root", ca=True).cert,))
    with pytest.raises(MetadataRefused, match="no trust root is named 'GlobalSign'"):
        verify_blob(blob("blob-122.jwt"), root=other, at=BLOB_122_AT)


def test_no_root_at_all_is_refused() -> None:
    with pytest.raises(MetadataRefused, match="no trust root is configured"):
        verify_blob(blob("blob-122.jwt"), root=TrustAnchors.empty(), at=BLOB_122_AT)


def test_a_naive_time_is_a_programming_error(fido_root: TrustAnchors) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_blob(blob("blob-9.jwt"), root=fido_root, at=datetime(2021, 11, 15))  # noqa: DTZ001
