"""Certificates, keys and attestation objects made on the spot for the trust tests.

Real vectors cannot show a single broken rule (any edit breaks a signature), so the
negative cases are built here: a CA hierarchy with chosen validity and constraints, and
statements in each format signed by keys we hold.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fido2.cose import CoseKey
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData

from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.statement import AttestationOutcome, verify_attestation
from tests.softauthn.ca import CA_KEY_USAGE, sign_tbs, v1_certificate

#: The fixed "now" of the synthetic certificates: far from the real clock on purpose.
T0 = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
RP_ID_HASH = hashlib.sha256(b"example.com").digest()
CLIENT_DATA_HASH = hashlib.sha256(b'{"type":"webauthn.create"}').digest()
AAGUID = bytes(range(16))
CREDENTIAL_ID = b"credential-id-0123456789"


@dataclass(frozen=True)
class Issued:
    """A certificate with the private key of its subject."""

    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(Encoding.DER)

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(Encoding.PEM).decode("ascii")


def p256_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    """One RSA key per test run: generating them is slow and any RSA key will do."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(common_name: str, **attributes: str) -> x509.Name:
    oids = {
        "C": NameOID.COUNTRY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    }
    parts = [x509.NameAttribute(oids[k], v) for k, v in attributes.items()]
    return x509.Name([*parts, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(
    subject: str | x509.Name,
    *,
    issuer: Issued | None = None,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    ca: bool | None = False,
    path_length: int | None = None,
    not_before: datetime = T0 - YEAR,
    not_after: datetime = T0 + YEAR,
    extensions: Sequence[x509.ExtensionType] = (),
    critical: Sequence[x509.ExtensionType] = (),
) -> Issued:
    """A certificate for ``key`` (a new P-256 key by default), self-signed without ``issuer``.

    ``ca=None`` leaves basicConstraints out altogether.
    """
    key = key or p256_key()
    subject_name = name(subject) if isinstance(subject, str) else subject
    signer_name, signer_key = (issuer.cert.subject, issuer.key) if issuer else (subject_name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca, path_length), critical=True)
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    for extension in critical:
        builder = builder.add_extension(extension, critical=True)
    return Issued(builder.sign(signer_key, hashes.SHA256()), key)


def issue_v1(
    subject: str | x509.Name,
    *,
    issuer: Issued | None = None,
    signer: Issued | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
    not_before: datetime = T0 - YEAR,
    not_after: datetime = T0 + YEAR,
) -> Issued:
    """An X.509 v1 certificate (no extensions): self-signed without ``issuer``.

    ``signer`` signs in place of the issuer named (default: the issuer, or the subject's
    own key), for a certificate whose name says one thing and whose signature another.
    """
    key = key or p256_key()
    subject_name = name(subject) if isinstance(subject, str) else subject
    signing = signer or issuer
    signer_key = signing.key if signing else key
    assert isinstance(signer_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    cert = v1_certificate(
        subject=subject_name,
        public_key=key.public_key(),
        signer=signer_key,
        issuer=issuer.cert.subject if issuer else None,
        not_before=not_before,
        not_after=not_after,
    )
    return Issued(cert, key)


def edited(issued: Issued, old: bytes, new: bytes, *, signer: Issued) -> Issued:
    """``issued`` with ``old`` replaced by ``new`` (same length) in its TBSCertificate, signed
    again by ``signer``: DER no builder writes (a duplicated extension, a broken value)."""
    tbs = issued.cert.tbs_certificate_bytes
    assert len(old) == len(new) and tbs.count(old) == 1, "edit must be unique, same length"
    assert isinstance(signer.key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    return Issued(sign_tbs(tbs.replace(old, new), signer.key), issued.key)


def duplicate_basic_constraints(subject: str, *, issuer: Issued | None = None) -> Issued:
    """A CA certificate with basicConstraints twice (its keyUsage OID turned into that of
    basicConstraints): OpenSSL loads it, cryptography's ``extensions`` raises
    DuplicateExtension, which is not a ValueError."""
    usage = CA_KEY_USAGE
    with_usage = issue(subject, issuer=issuer, ca=True, extensions=[usage])
    key_usage_oid, basic_constraints_oid = b"\x06\x03\x55\x1d\x0f", b"\x06\x03\x55\x1d\x13"
    return edited(with_usage, key_usage_oid, basic_constraints_oid, signer=issuer or with_usage)


def auth_data(credential_key: Mapping[int, Any]) -> AuthenticatorData:
    """Authenticator data with UP, UV and AT set, attesting ``credential_key``."""
    flags = AuthenticatorData.FLAG
    credential = AttestedCredentialData.create(AAGUID, CREDENTIAL_ID, CoseKey(credential_key))
    data: AuthenticatorData = AuthenticatorData.create(
        RP_ID_HASH, flags.UP | flags.UV | flags.AT, 0, credential
    )
    return data


def cose_es256(key: ec.EllipticCurvePrivateKey) -> dict[int, Any]:
    numbers = key.public_key().public_numbers()
    size = (key.curve.key_size + 7) // 8
    alg, crv = {32: (-7, 1), 48: (-35, 2)}[size]
    return {
        1: 2,
        3: alg,
        -1: crv,
        -2: numbers.x.to_bytes(size, "big"),
        -3: numbers.y.to_bytes(size, "big"),
    }


def sign_es256(key: CertificateIssuerPrivateKeyTypes, message: bytes) -> bytes:
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def attestation(
    fmt: str, data: AuthenticatorData, statement: Mapping[str, Any]
) -> AttestationObject:
    return AttestationObject.create(fmt, data, statement)


def packed(root: Issued, *, alg: int = -7, x5c: list[bytes] | None = None) -> AttestationObject:
    """A full ``packed`` statement whose leaf, issued by ``root``, meets §8.2.1."""
    leaf = issue(
        name("Packed Leaf", C="SE", O="Test Vendor", OU="Authenticator Attestation"), issuer=root
    )
    data = auth_data(cose_es256(p256_key()))
    statement = {
        "alg": alg,
        "sig": sign_es256(leaf.key, data + CLIENT_DATA_HASH),
        "x5c": [leaf.der] if x5c is None else x5c,
    }
    return attestation("packed", data, statement)


def verify(
    att: AttestationObject,
    anchors: TrustAnchors | None = None,
    *,
    require_trusted: bool = False,
    at: datetime = T0,
) -> AttestationOutcome:
    """verify_attestation with the builders' client data hash, by default at T0, untrusted."""
    return verify_attestation(
        att,
        CLIENT_DATA_HASH,
        anchors=anchors or TrustAnchors.empty(),
        at=at,
        require_trusted=require_trusted,
    )
