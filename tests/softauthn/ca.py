"""The test attestation CA and the certificates it issues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: id-fido-gen-ce-aaguid: the attestation certificate extension carrying the AAGUID.
OID_FIDO_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")

#: An attestation key and the certificate the CA issued for it.
Leaf = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


def _name(*, country: str, org: str, unit: str | None, common: str) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if unit is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common))
    return x509.Name(attrs)


@dataclass
class TestCA:
    """A test attestation CA: a self-signed EC P-256 root and a way to issue attestation leaves.

    Leaves are signed directly by the root (x5c is then just ``[leaf]``); the service is
    configured to trust :attr:`root_pem`.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class despite the name

    root_key: ec.EllipticCurvePrivateKey
    root_cert: x509.Certificate
    not_before: datetime
    not_after: datetime

    @classmethod
    def generate(
        cls, *, not_before: datetime | None = None, not_after: datetime | None = None
    ) -> TestCA:
        """Make a new root valid from ``not_before`` (default: a day ago) to ``not_after``
        (default: a year from now). Leaves it issues get the same validity by default."""
        now = datetime.now(UTC)
        start = not_before if not_before is not None else now - timedelta(days=1)
        end = not_after if not_after is not None else now + timedelta(days=365)
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(country="US", org="SoftAuthn Test", unit=None, common="SoftAuthn Test Root")
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(root_key=key, root_cert=cert, not_before=start, not_after=end)

    @property
    def root_pem(self) -> str:
        """PEM of the root certificate."""
        return self.root_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def root_der(self) -> bytes:
        """DER of the root certificate."""
        return self.root_cert.public_bytes(serialization.Encoding.DER)

    def issue_leaf(
        self,
        *,
        aaguid: bytes | None,
        u2f: bool = False,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """Issue an EC P-256 attestation certificate signed by the root.

        Packed (WebAuthn §8.2.1): X.509 v3; subject C, O, OU="Authenticator Attestation", CN;
        basicConstraints CA=false; and, when ``aaguid`` is given, the non-critical
        1.3.6.1.4.1.45724.1.1.4 extension whose value is an OCTET STRING wrapping the 16 bytes.
        With ``u2f=True`` the leaf is a plain EC P-256 certificate for fido-u2f attestation
        (no OU requirement, no AAGUID extension; ``aaguid`` must then be None).
        Validity defaults to the CA's.
        """
        if aaguid is not None and len(aaguid) != 16:
            raise ValueError("an AAGUID is 16 bytes")
        if u2f and aaguid is not None:
            raise ValueError("fido-u2f attestation certificates carry no AAGUID")
        key = ec.generate_private_key(ec.SECP256R1())
        if u2f:
            subject = _name(country="US", org="SoftAuthn Test", unit=None, common="SoftAuthn U2F")
        else:
            subject = _name(
                country="US",
                org="SoftAuthn Test",
                unit="Authenticator Attestation",
                common="SoftAuthn Packed Attestation",
            )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.root_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before if not_before is not None else self.not_before)
            .not_valid_after(not_after if not_after is not None else self.not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )
        if aaguid is not None:
            # DER OCTET STRING (tag 0x04, length 16) around the AAGUID: ASN.1, not CBOR.
            value = b"\x04\x10" + aaguid
            builder = builder.add_extension(
                x509.UnrecognizedExtension(OID_FIDO_AAGUID, value), critical=False
            )
        return key, builder.sign(self.root_key, hashes.SHA256())
