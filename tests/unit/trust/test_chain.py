"""verify_chain: a path to an anchor, every link signed, every certificate valid at ``at``,
every certificate between leaf and anchor a CA; hostile certificates give False, not errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509
from fido2.webauthn import AttestationObject
from OpenSSL import crypto

from authsvc.errors import AttestationInvalid, AttestationUntrusted
from authsvc.trust.anchors import TrustAnchors, is_ca
from authsvc.trust.chain import verify_chain
from tests.unit.trust.builders import (
    CLIENT_DATA_HASH,
    T0,
    YEAR,
    Issued,
    attestation,
    auth_data,
    cose_es256,
    duplicate_basic_constraints,
    edited,
    issue,
    issue_v1,
    name,
    p256_key,
    packed,
    sign_es256,
    verify,
)

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


# --- X.509 v1 certificates -----------------------------------------------------------------


@pytest.fixture(scope="module")
def v1_root() -> Issued:
    return issue_v1("Old Style Root")


def test_v1_root_configured_as_an_anchor_makes_a_chain_under_it_trusted(v1_root: Issued) -> None:
    """OpenSSL's X509_check_ca answers 3 (a v1 self-signed root) for it: accepted as the top."""
    intermediate = issue("Under V1", issuer=v1_root, ca=True)
    leaf = issue("Leaf", issuer=intermediate)
    assert verify_chain([leaf.der, intermediate.der], anchors_of(v1_root), T0)
    assert verify_chain([leaf.der, intermediate.der, v1_root.der], anchors_of(v1_root), T0)
    assert verify_chain([issue("Direct", issuer=v1_root).der], anchors_of(v1_root), T0)


def test_v1_root_is_checked_at_the_given_time() -> None:
    old = issue_v1("Old V1", not_before=T0 - 2 * YEAR, not_after=T0 - HOUR)
    assert not verify_chain([issue("Leaf", issuer=old).der], anchors_of(old), T0)
    assert verify_chain([issue("Leaf", issuer=old).der], anchors_of(old), T0 - YEAR)


def test_v1_root_not_configured_is_no_anchor(root: Issued, v1_root: Issued) -> None:
    """Sent at the end of x5c, a v1 root is one more self-signed certificate: untrusted."""
    leaf = issue("Leaf", issuer=v1_root)
    assert not verify_chain([leaf.der, v1_root.der], anchors_of(root), T0)


def test_self_issued_v1_intermediate_named_like_the_anchor(root: Issued) -> None:
    """subject == issuer == the anchor's name, signed by the anchor: X509_check_ca calls such
    a certificate a "V1 root" (3) whatever its position; it must still not be an issuer."""
    key = p256_key()
    impostor = issue_v1(root.cert.subject, key=key, signer=root)
    leaf = issue(
        "Leaf",
        issuer=impostor,
        extensions=[x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key())],
    )
    assert not verify_chain([leaf.der, impostor.der], anchors_of(root), T0)


def test_v1_leaf_is_the_format_verifiers_business(root: Issued, intermediate: Issued) -> None:
    """Path validation puts nothing on a leaf's version; packed refuses a v1 leaf itself
    (§8.2.1, see test_packed_v1_leaf_is_invalid)."""
    leaf = issue_v1("V1 Leaf", issuer=intermediate)
    assert verify_chain([leaf.der, intermediate.der], anchors_of(root), T0)


# --- the path OpenSSL accepts is checked again ----------------------------------------------


def test_intermediates_openssl_would_accept_must_still_be_cas(
    root: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenSSL 3.0 and 4.0 refuse a keyUsage-only intermediate themselves; the path they
    return is checked anyway, so another OpenSSL's answer cannot make it trusted."""
    usage_only = issue("Usage Only", issuer=root, ca=None, critical=[key_usage(cert_sign=True)])
    leaf = issue("Leaf", issuer=usage_only)
    assert not verify_chain([leaf.der, usage_only.der], anchors_of(root), T0)
    lenient = [crypto.X509.from_cryptography(c.cert) for c in (leaf, usage_only, root)]
    monkeypatch.setattr(crypto.X509StoreContext, "get_verified_chain", lambda _: lenient)
    assert not verify_chain([leaf.der, usage_only.der], anchors_of(root), T0)
    proper = issue("Proper CA", issuer=root, ca=True)
    lenient[1] = crypto.X509.from_cryptography(proper.cert)
    assert verify_chain([leaf.der, usage_only.der], anchors_of(root), T0)


# --- hostile certificates: False, never an exception ----------------------------------------


def test_duplicate_anchors(root: Issued, intermediate: Issued, leaf: Issued) -> None:
    """The operator's root listed again by a metadata entry: the store takes it twice."""
    anchors = anchors_of(root).union(anchors_of(root, intermediate))
    assert verify_chain([leaf.der, intermediate.der], anchors, T0)


def test_intermediate_with_duplicate_basic_constraints(root: Issued) -> None:
    broken = duplicate_basic_constraints("Dup CA", issuer=root)
    with pytest.raises(x509.DuplicateExtension):
        _ = broken.cert.extensions
    leaf = issue("Leaf", issuer=broken)
    assert not verify_chain([leaf.der, broken.der], anchors_of(root), T0)
    assert not is_ca(broken.cert)


@pytest.mark.parametrize("critical", [True, False])
def test_intermediate_whose_basic_constraints_do_not_parse(root: Issued, critical: bool) -> None:
    garbage = x509.UnrecognizedExtension(x509.oid.ExtensionOID.BASIC_CONSTRAINTS, b"\x30\x03\x01")
    broken = issue(
        "Garbled CA",
        issuer=root,
        ca=None,
        critical=[garbage] if critical else [],
        extensions=[] if critical else [garbage],
    )
    leaf = issue("Leaf", issuer=broken)
    assert not is_ca(broken.cert)
    assert not verify_chain([leaf.der, broken.der], anchors_of(root), T0)


def test_leaf_whose_extensions_do_not_parse(root: Issued, intermediate: Issued) -> None:
    garbage = x509.UnrecognizedExtension(x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\xff")
    leaf = issue("Leaf", issuer=intermediate, extensions=[garbage])
    assert not verify_chain([leaf.der, intermediate.der], anchors_of(root), T0)


@pytest.mark.parametrize(
    "path",
    [[b""], [b"\x30\x03\x02\x01\x01"], [b"\x30" + b"\x80" * 3], ["not bytes"], [None]],
    ids=["empty", "tiny-sequence", "bad-length", "str", "none"],
)
def test_garbage_leaf(root: Issued, path: list[bytes]) -> None:
    assert not verify_chain(path, anchors_of(root), T0)


def test_v2_certificate(root: Issued, leaf: Issued, intermediate: Issued) -> None:
    """cryptography refuses version 2 (InvalidVersion, not a ValueError)."""
    v2 = bytearray(intermediate.der)
    at = v2.index(b"\xa0\x03\x02\x01\x02")  # [0] EXPLICIT INTEGER 2 (v3)
    v2[at + 4] = 1
    assert not verify_chain([leaf.der, bytes(v2)], anchors_of(root), T0)


# --- the same certificates through verify_attestation: only our two errors ------------------


def packed_under(issuer: Issued, *extra: bytes) -> AttestationObject:
    """A valid packed statement whose leaf ``issuer`` signed, with ``extra`` after it in x5c
    (x5c is not signed, so it may be changed without breaking the statement)."""
    att = packed(issuer)
    return attestation(
        "packed", att.auth_data, {**att.att_stmt, "x5c": [*att.att_stmt["x5c"], *extra]}
    )


def packed_with_leaf(leaf: Issued) -> AttestationObject:
    data = auth_data(cose_es256(p256_key()))
    statement = {"alg": -7, "sig": sign_es256(leaf.key, data + CLIENT_DATA_HASH), "x5c": [leaf.der]}
    return attestation("packed", data, statement)


PACKED_SUBJECT = name("Packed Leaf", C="SE", O="Test Vendor", OU="Authenticator Attestation")


def test_packed_under_a_v1_root_is_trusted(v1_root: Issued) -> None:
    intermediate = issue("Under V1", issuer=v1_root, ca=True)
    outcome = verify(
        packed_under(intermediate, intermediate.der), anchors_of(v1_root), require_trusted=True
    )
    assert outcome.trust == "trusted"
    assert verify(packed_under(intermediate, intermediate.der)).trust == "untrusted"


def test_packed_v1_leaf_is_invalid(intermediate: Issued) -> None:
    leaf = issue_v1(PACKED_SUBJECT, issuer=intermediate)
    with pytest.raises(AttestationInvalid):
        verify(packed_with_leaf(leaf))


def test_packed_leaf_with_duplicate_extensions_is_invalid(root: Issued) -> None:
    leaf = edited(
        issue(PACKED_SUBJECT, issuer=root, extensions=[x509.SubjectKeyIdentifier(b"\x01" * 20)]),
        b"\x06\x03\x55\x1d\x0e",  # subjectKeyIdentifier -> basicConstraints (already there)
        b"\x06\x03\x55\x1d\x13",
        signer=root,
    )
    with pytest.raises(AttestationInvalid):
        verify(packed_with_leaf(leaf), anchors_of(root))


@pytest.mark.parametrize(
    "make_issuer",
    [
        lambda root: issue_v1("V1 Intermediate", issuer=root),  # OpenSSL: invalid CA
        lambda root: duplicate_basic_constraints("Dup CA", issuer=root),
        lambda root: issue("Not A CA", issuer=root, ca=None),
        lambda root: issue("CA False", issuer=root, ca=False),
    ],
    ids=["v1-intermediate", "duplicate-extension", "no-basic-constraints", "ca-false"],
)
def test_non_ca_intermediate_is_untrusted(
    root: Issued, make_issuer: Callable[[Issued], Issued]
) -> None:
    """The leaf is signed by the intermediate, which the root signed: only its being no CA
    (or unreadable as one) stands between the chain and trust."""
    intermediate = make_issuer(root)
    att = packed_under(intermediate, intermediate.der)
    assert verify(att, anchors_of(root)).trust == "untrusted"
    with pytest.raises(AttestationUntrusted):
        verify(att, anchors_of(root), require_trusted=True)


@pytest.mark.parametrize("extra", [b"\x30\x03\x02\x01\x01", b"", b"\x30\x80"])
def test_garbage_after_the_leaf_is_untrusted(
    intermediate: Issued, root: Issued, extra: bytes
) -> None:
    att = packed_under(intermediate, extra)
    assert verify(att, anchors_of(root)).trust == "untrusted"
    with pytest.raises(AttestationUntrusted):
        verify(att, anchors_of(root), require_trusted=True)
