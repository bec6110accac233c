"""TrustAnchors: CA roots parsed once, from files or strings; anything else refused by name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from authsvc.trust.anchors import TrustAnchors
from tests.shared import MDS
from tests.unit.trust.builders import issue


def test_bundle_file_yields_every_certificate() -> None:
    anchors = TrustAnchors.from_pem_files([MDS / "google-hardware-attestation-roots.pem"])
    assert len(anchors) == 2
    assert len(anchors.openssl_roots) == 2


def test_several_files() -> None:
    files = [MDS / "apple-webauthn-root-ca.pem", MDS / "fido-root-r3.pem"]
    subjects = [r.subject.rfc4514_string() for r in TrustAnchors.from_pem_files(files).roots]
    assert subjects[0].endswith("CN=Apple WebAuthn Root CA")
    assert "GlobalSign" in subjects[1]


def test_strings_may_be_bundles() -> None:
    one, two = issue("Root One", ca=True), issue("Root Two", ca=True)
    anchors = TrustAnchors.from_pem_strings([one.pem + two.pem, one.pem])
    assert [r.subject for r in anchors.roots] == [
        one.cert.subject,
        two.cert.subject,
        one.cert.subject,
    ]


def test_empty() -> None:
    assert len(TrustAnchors.empty()) == 0


def test_frozen() -> None:
    anchors = TrustAnchors.empty()
    with pytest.raises(dataclasses.FrozenInstanceError):
        anchors.roots = ()  # type: ignore[misc]


@pytest.mark.parametrize("ca", [False, None], ids=["ca-false", "no-basic-constraints"])
def test_non_ca_file_is_refused_by_name(tmp_path: Path, ca: bool | None) -> None:
    path = tmp_path / "leaf.pem"
    path.write_text(issue("Leaf", ca=ca).pem)
    with pytest.raises(ValueError, match=r"leaf\.pem: .*Leaf.* is not a CA"):
        TrustAnchors.from_pem_files([path])


@pytest.mark.parametrize(
    "content",
    [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
)
def test_unparsable_file_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pem"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"broken\.pem: not a PEM certificate"):
        TrustAnchors.from_pem_files([path])


def test_bad_string_is_named_by_position() -> None:
    good = issue("Root", ca=True).pem
    with pytest.raises(ValueError, match="PEM string #1: not a PEM"):
        TrustAnchors.from_pem_strings([good, "garbage"])
    with pytest.raises(ValueError, match="PEM string #0: not ASCII"):
        TrustAnchors.from_pem_strings(["caf\u00e9"])


def test_constructor_refuses_non_ca() -> None:
    with pytest.raises(ValueError, match="is not a CA"):
        TrustAnchors((issue("Leaf").cert,))
