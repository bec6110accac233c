"""The test attestation CA and the certificates it issues.

Besides the usual v3 root, an X.509 v1 self-signed root can be made (:func:`v1_root`), as some
vendors still ship in FIDO metadata. cryptography's ``CertificateBuilder`` always writes v3
and pyOpenSSL's certificate setters are deprecated, so a v1 TBSCertificate is encoded with
asn1crypto and signed with cryptography (:func:`sign_tbs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

#: id-fido-gen-ce-aaguid: the attestation certificate extension carrying the AAGUID.
OID_FIDO_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")

#: An attestation key and the certificate the CA issued for it.
Leaf = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


#: keyCertSign and cRLSign: what a CA certificate's keyUsage says
CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _name(*, country: str, org: str, unit: str | None, common: str) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if unit is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common))
    return x509.Name(attrs)


#: What may sign the certificates made here: ECDSA or RSA PKCS#1 v1.5, both with SHA-256.
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def sign_tbs(tbs: bytes, signer: SigningKey) -> x509.Certificate:
    """The certificate of exactly these TBSCertificate bytes, signed by ``signer``.

    The bytes are kept as given (asn1crypto re-encodes nothing it loaded), so a test can
    edit an issued certificate's ``tbs_certificate_bytes`` and sign the result again. The
    signature algorithm inside ``tbs`` must be the one :func:`_signature_algorithm` names.
    """
    if isinstance(signer, ec.EllipticCurvePrivateKey):
        signature = signer.sign(tbs, ec.ECDSA(hashes.SHA256()))
    else:
        signature = signer.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    cert = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs),
            "signature_algorithm": _signature_algorithm(signer),
            "signature_value": signature,
        }
    )
    return x509.load_der_x509_certificate(cert.dump())


def v1_certificate(
    *,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    signer: SigningKey,
    issuer: x509.Name | None = None,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """An X.509 v1 certificate (no version field, no extensions), self-issued without
    ``issuer``; self-signed when ``signer`` is also the key of ``public_key``."""
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v1",  # the DEFAULT: asn1crypto leaves it out, as DER requires
            "serial_number": x509.random_serial_number(),
            "signature": _signature_algorithm(signer),
            "issuer": asn1_x509.Name.load((issuer or subject).public_bytes()),
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": asn1_x509.Name.load(subject.public_bytes()),
            "subject_public_key_info": asn1_keys.PublicKeyInfo.load(spki),
        }
    )
    return sign_tbs(tbs.dump(), signer)


def v1_root(
    *,
    common_name: str = "SoftAuthn Test V1 Root",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed X.509 v1 EC P-256 root, valid from a day ago for a year by default.

    Its name has the shape of the SoloKeys root in FIDO metadata (emailAddress, CN, OU, O).
    Two roots meant to be told apart need two names: a v1 root has no subject key
    identifier, so OpenSSL picks among same-named anchors by name alone.
    """
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SoftAuthn Test"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Root CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "root@softauthn.test"),
        ]
    )
    cert = v1_certificate(
        subject=name,
        public_key=key.public_key(),
        signer=key,
        not_before=not_before if not_before is not None else now - timedelta(days=1),
        not_after=not_after if not_after is not None else now + timedelta(days=365),
    )
    return key, cert


def _signature_algorithm(signer: SigningKey) -> dict[str, Any]:
    return {
        "algorithm": "sha256_ecdsa"
        if isinstance(signer, ec.EllipticCurvePrivateKey)
        else "sha256_rsa"
    }


def _time(moment: datetime) -> asn1_x509.Time:
    """UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5)."""
    kind = "utc_time" if moment.year < 2050 else "general_time"
    return asn1_x509.Time({kind: moment.astimezone(UTC)})


@dataclass
class TestCA:
    """A test attestation CA: a self-signed EC P-256 root and a way to issue attestation leaves.

    Leaves are signed directly by the root (x5c is then just ``[leaf]``); the service is
    configured to trust :attr:`root_pem`. Made with ``issuer``, the CA is instead an
    intermediate under that issuer (its ``root_*`` fields are then the intermediate's), and
    the service is configured to trust the issuer.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class despite the name

    root_key: ec.EllipticCurvePrivateKey
    root_cert: x509.Certificate
    not_before: datetime
    not_after: datetime

    @classmethod
    def generate(
        cls,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        issuer: tuple[SigningKey, x509.Certificate] | None = None,
    ) -> TestCA:
        """Make a new root valid from ``not_before`` (default: a day ago) to ``not_after``
        (default: a year from now). Leaves it issues get the same validity by default.

        With ``issuer`` (its key and certificate) the CA is an intermediate signed by it.
        """
        now = datetime.now(UTC)
        start = not_before if not_before is not None else now - timedelta(days=1)
        end = not_after if not_after is not None else now + timedelta(days=365)
        key = ec.generate_private_key(ec.SECP256R1())
        common = "SoftAuthn Test Root" if issuer is None else "SoftAuthn Test Intermediate"
        name = _name(country="US", org="SoftAuthn Test", unit=None, common=common)
        signer_key, signer_name = (key, name) if issuer is None else (issuer[0], issuer[1].subject)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(signer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                CA_KEY_USAGE,
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(signer_key, hashes.SHA256())
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
