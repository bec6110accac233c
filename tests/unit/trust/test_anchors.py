"""TrustAnchors: CA roots and self-signed v1 roots parsed once, from files or strings;
anything else refused by name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography import x509

from authsvc.trust.anchors import TrustAnchors, anchor_problem
from tests.shared import MDS
from tests.softauthn.ca import CA_KEY_USAGE
from tests.unit.trust.builders import duplicate_basic_constraints, issue, issue_v1


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


# --- X.509 v1 roots: trusted because configured, if they are self-signed -------------------


def test_v1_self_signed_root_is_an_anchor(tmp_path: Path) -> None:
    root = issue_v1("Old Style Root")
    assert root.cert.version is x509.Version.v1
    path = tmp_path / "v1.pem"
    path.write_text(root.pem)
    anchors = TrustAnchors.from_pem_files([path])
    assert anchors.roots == (root.cert,)
    assert len(anchors.openssl_roots) == 1
    assert anchor_problem(root.cert) is None


def test_v1_issued_by_another_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "v1-leaf.pem"
    path.write_text(issue_v1("Old Style Leaf", issuer=issue("Some CA", ca=True)).pem)
    with pytest.raises(ValueError, match=r"v1-leaf\.pem: .*Old Style Leaf.* v1 .*not self-signed"):
        TrustAnchors.from_pem_files([path])


def test_v1_self_issued_but_signed_by_another_key_is_refused() -> None:
    """Equal names are not self-signed: the signature must verify under the cert's own key."""
    other = issue("Other CA", ca=True)
    forged = issue_v1("Same Name", signer=other)
    assert forged.cert.subject == forged.cert.issuer
    with pytest.raises(ValueError, match=r"is not a CA .*not self-signed"):
        TrustAnchors((forged.cert,))


@pytest.mark.parametrize(
    ("ca", "stated"),
    [(False, "basicConstraints cA false"), (None, "no basicConstraints")],
    ids=["ca-false", "no-basic-constraints"],
)
def test_v3_self_signed_without_ca_is_refused_with_the_reason(ca: bool | None, stated: str) -> None:
    """Only v1 is exempt: a v3 certificate had the means to say it is a CA and did not."""
    with pytest.raises(ValueError, match=rf"Self Signed.* is not a CA \({stated}\)"):
        TrustAnchors((issue("Self Signed", ca=ca).cert,))


def test_extensions_that_do_not_parse_are_refused_by_reason(tmp_path: Path) -> None:
    """Duplicate basicConstraints: cryptography raises DuplicateExtension, not ValueError."""
    path = tmp_path / "dup.pem"
    path.write_text(duplicate_basic_constraints("Dup Root").pem)
    with pytest.raises(ValueError, match=r"dup\.pem: .*Dup Root.* extensions that do not parse"):
        TrustAnchors.from_pem_files([path])


def test_key_usage_without_basic_constraints_is_refused() -> None:
    """OpenSSL would accept this as the top of a path (X509_check_ca answers 4); we do not."""
    usage = CA_KEY_USAGE
    with pytest.raises(ValueError, match=r"is not a CA \(no basicConstraints\)"):
        TrustAnchors((issue("Usage Only Root", ca=None, critical=[usage]).cert,))
