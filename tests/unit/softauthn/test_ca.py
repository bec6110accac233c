"""The test CA: its root and the attestation certificates it issues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tests.softauthn import (
    DEFAULT_AAGUID,
    OID_FIDO_AAGUID,
    TestCA,
)


def test_packed_leaf_profile(ca: TestCA) -> None:
    aaguid = bytes(range(16))
    key, cert = ca.issue_leaf(aaguid=aaguid)
    assert isinstance(key.curve, ec.SECP256R1)
    assert cert.version is x509.Version.v3
    subject = cert.subject
    for oid in (x509.NameOID.COUNTRY_NAME, x509.NameOID.ORGANIZATION_NAME):
        assert subject.get_attributes_for_oid(oid)
    assert subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    unit = subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert [a.value for a in unit] == ["Authenticator Attestation"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ext = cert.extensions.get_extension_for_oid(OID_FIDO_AAGUID)
    assert ext.critical is False
    assert isinstance(ext.value, x509.UnrecognizedExtension)
    assert ext.value.value == b"\x04\x10" + aaguid
    cert.verify_directly_issued_by(ca.root_cert)
    assert cert.not_valid_before_utc == ca.root_cert.not_valid_before_utc
    assert cert.not_valid_after_utc == ca.root_cert.not_valid_after_utc

    _, no_aaguid = ca.issue_leaf(aaguid=None)
    with pytest.raises(x509.ExtensionNotFound):
        no_aaguid.extensions.get_extension_for_oid(OID_FIDO_AAGUID)


def test_u2f_leaf_is_p256(ca: TestCA) -> None:
    key, cert = ca.issue_leaf(aaguid=None, u2f=True)
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert isinstance(public.curve, ec.SECP256R1)
    assert public.public_numbers() == key.public_key().public_numbers()
    cert.verify_directly_issued_by(ca.root_cert)


def test_ca_validity_and_pem() -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=30)
    ca = TestCA.generate(not_before=start, not_after=end)
    root = x509.load_pem_x509_certificate(ca.root_pem.encode())
    assert root == ca.root_cert
    assert root.not_valid_before_utc == start
    assert root.not_valid_after_utc == end
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    _, leaf = ca.issue_leaf(aaguid=DEFAULT_AAGUID)
    assert leaf.not_valid_after_utc == end
    assert TestCA.__test__ is False
