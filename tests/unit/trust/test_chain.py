"""verify_chain: a path to an anchor, every link signed, every certificate valid at ``at``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509

from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.chain import verify_chain
from tests.unit.trust.builders import T0, YEAR, Issued, issue, name

HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def intermediate(root: Issued) -> Issued:
    return issue("Test Intermediate", issuer=root, ca=True)


@pytest.fixture(scope="module")
def leaf(intermediate: Issued) -> Issued:
    return issue("Test Attestation", issuer=intermediate, ca=False)


def anchors_of(*roots: Issued) -> TrustAnchors:
    return TrustAnchors(tuple(r.cert for r in roots))


def test_leaf_intermediate_root(root: Issued, intermediate: Issued, leaf: Issued) -> None:
    assert verify_chain([leaf.der, intermediate.der], anchors_of(root), T0)


def test_root_sent_at_the_end_of_the_path(root: Issued, intermediate: Issued, leaf: Issued) -> None:
    assert verify_chain([leaf.der, intermediate.der, root.der], anchors_of(root), T0)


def test_leaf_issued_directly_by_an_anchor(root: Issued) -> None:
    direct = issue("Direct", issuer=root)
    assert verify_chain([direct.der], anchors_of(root), T0)


def test_an_intermediate_may_be_the_anchor(intermediate: Issued, leaf: Issued) -> None:
    assert verify_chain([leaf.der, intermediate.der], anchors_of(intermediate), T0)


def test_missing_intermediate(root: Issued, leaf: Issued) -> None:
    assert not verify_chain([leaf.der], anchors_of(root), T0)


def test_checked_at_the_given_time_not_now(root: Issued, intermediate: Issued) -> None:
    future_only = issue("Future", issuer=intermediate, not_before=T0 - HOUR, not_after=T0 + HOUR)
    path = [future_only.der, intermediate.der]
    assert verify_chain(path, anchors_of(root), T0)
    assert not verify_chain(path, anchors_of(root), datetime.now(UTC))


@pytest.mark.parametrize(
    ("offset", "valid"),
    [(-HOUR, False), (timedelta(0), True), (HOUR, True), (2 * HOUR, False)],
    ids=["not-yet-valid", "first-second", "inside", "expired"],
)
def test_leaf_validity_window(
    root: Issued, intermediate: Issued, offset: timedelta, valid: bool
) -> None:
    leaf = issue("Window", issuer=intermediate, not_before=T0, not_after=T0 + HOUR)
    assert verify_chain([leaf.der, intermediate.der], anchors_of(root), T0 + offset) is valid


def test_expired_intermediate(root: Issued) -> None:
    old = issue("Old Intermediate", issuer=root, ca=True, not_after=T0 - HOUR)
    leaf = issue("Leaf", issuer=old)
    assert not verify_chain([leaf.der, old.der], anchors_of(root), T0)


def test_expired_anchor() -> None:
    old_root = issue("Old Root", ca=True, not_before=T0 - 2 * YEAR, not_after=T0 - HOUR)
    leaf = issue("Leaf", issuer=old_root)
    assert not verify_chain([leaf.der], anchors_of(old_root), T0)


def test_not_yet_valid_intermediate(root: Issued) -> None:
    early = issue("Early", issuer=root, ca=True, not_before=T0 + HOUR)
    leaf = issue("Leaf", issuer=early)
    assert not verify_chain([leaf.der, early.der], anchors_of(root), T0)


def test_time_zone_of_at_is_honoured(root: Issued, intermediate: Issued) -> None:
    """T0 + 2h written as 09:00 at UTC-5: wall-clock reading would say T0 - 3h (valid)."""
    leaf = issue("Short", issuer=intermediate, not_before=T0 - HOUR, not_after=T0 + HOUR)
    at = (T0 + 2 * HOUR).astimezone(timezone(timedelta(hours=-5)))
    assert not verify_chain([leaf.der, intermediate.der], anchors_of(root), at)


def test_naive_time_is_a_programming_error(root: Issued, leaf: Issued) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_chain([leaf.der], anchors_of(root), T0.replace(tzinfo=None))


def test_wrong_issuer(root: Issued, intermediate: Issued) -> None:
    stranger = issue("Stranger CA", ca=True)
    leaf = issue("Leaf", issuer=stranger)
    assert not verify_chain([leaf.der, intermediate.der], anchors_of(root), T0)


def test_same_name_other_key_is_not_the_issuer(root: Issued) -> None:
    impostor = issue(root.cert.subject, ca=True)  # same name as the anchor, another key
    leaf = issue("Leaf", issuer=impostor)
    assert not verify_chain([leaf.der, impostor.der], anchors_of(root), T0)


@pytest.mark.parametrize("ca", [False, None], ids=["ca-false", "no-basic-constraints"])
def test_intermediate_must_be_a_ca(root: Issued, ca: bool | None) -> None:
    not_ca = issue("Not A CA", issuer=root, ca=ca)
    leaf = issue("Leaf", issuer=not_ca)
    assert not verify_chain([leaf.der, not_ca.der], anchors_of(root), T0)


def key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


@pytest.mark.parametrize("cert_sign", [True, False])
def test_intermediate_key_usage_must_allow_certificate_signing(
    root: Issued, cert_sign: bool
) -> None:
    issuer = issue("Usage CA", issuer=root, ca=True, critical=[key_usage(cert_sign=cert_sign)])
    leaf = issue("Leaf", issuer=issuer)
    assert verify_chain([leaf.der, issuer.der], anchors_of(root), T0) is cert_sign


def test_unknown_critical_extension(root: Issued, intermediate: Issued) -> None:
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    leaf = issue("Leaf", issuer=intermediate, critical=[unknown])
    assert not verify_chain([leaf.der, intermediate.der], anchors_of(root), T0)


@pytest.mark.parametrize(("path_length", "valid"), [(0, False), (1, True)])
def test_path_length_constraint(root: Issued, path_length: int, valid: bool) -> None:
    upper = issue("Upper", issuer=root, ca=True, path_length=path_length)
    lower = issue("Lower", issuer=upper, ca=True)
    leaf = issue("Leaf", issuer=lower)
    assert verify_chain([leaf.der, lower.der, upper.der], anchors_of(root), T0) is valid


def test_empty_path_or_no_anchors(root: Issued, leaf: Issued, intermediate: Issued) -> None:
    assert not verify_chain([], anchors_of(root), T0)
    assert not verify_chain([leaf.der, intermediate.der], TrustAnchors.empty(), T0)


@pytest.mark.parametrize("position", [0, 1])
def test_bytes_that_are_no_certificate(
    root: Issued, intermediate: Issued, leaf: Issued, position: int
) -> None:
    path = [leaf.der, intermediate.der]
    path[position] = path[position][:-7]
    assert not verify_chain(path, anchors_of(root), T0)


def test_der_that_only_cryptography_reads(root: Issued) -> None:
    """A constructed-bit flip in an issuer string: cryptography parses it, OpenSSL refuses it."""
    issuer = issue(name("Flip CA", O="Flip Org"), issuer=root, ca=True)
    der = bytearray(issue("Leaf", issuer=issuer).der)
    at = der.index(b"\x0c\x08Flip Org")
    der[at] ^= 0x20
    x509.load_der_x509_certificate(bytes(der))
    assert not verify_chain([bytes(der), issuer.der], anchors_of(root), T0)
