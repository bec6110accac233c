"""Synthetic MDS3 BLOBs signed by a CA we hold, with entries shaped like real ones.

Real BLOBs cannot show a compromise status (none has ever carried one) or a broken rule
(any edit breaks the signature), so those cases are signed here. The entries copy the
shape of blob-122's (schema 3 statements with the members fido2 requires); only the
identifiers, names and status reports are made up.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from authsvc.trust.anchors import TrustAnchors
from tests.unit.trust.builders import Issued, issue, rsa_key

LEGAL = (
    "Retrieval and use of this BLOB indicates acceptance of the appropriate agreement "
    "located at https://fidoalliance.org/metadata/metadata-legal-terms/"
)
#: nextUpdate of the synthetic BLOBs: a month after the time they are checked at (T0)
NEXT_UPDATE = "2031-07-01"


@dataclass(frozen=True)
class Signer:
    """A BLOB signing chain: root (the trust anchor), intermediate and leaf."""

    root: Issued
    intermediate: Issued
    leaf: Issued

    @property
    def anchors(self) -> TrustAnchors:
        return TrustAnchors((self.root.cert,))

    @property
    def root_pem(self) -> bytes:
        return self.root.cert.public_bytes(serialization.Encoding.PEM)

    def sign(
        self,
        payload: Mapping[str, Any] | bytes,
        *,
        alg: str = "ES256",
        header: Mapping[str, Any] | None = None,
    ) -> bytes:
        """A compact JWS of ``payload`` (JSON unless bytes), x5c = [leaf, intermediate]."""
        fields = {
            "alg": alg,
            "typ": "JWT",
            "x5c": [base64.b64encode(c.der).decode() for c in (self.leaf, self.intermediate)],
        }
        fields.update(header or {})
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        signed = b64url(json.dumps(fields).encode()) + b"." + b64url(body)
        return signed + b"." + b64url(jws_signature(alg, self.leaf, signed))


def make_signer(
    *, rsa_leaf: bool = False, leaf_key: Any = None, name: str = "mds.fidoalliance.org"
) -> Signer:
    """A made-up CA whose leaf carries FIDO's signer name (what verify_blob asks by default)."""
    root = issue("Test MDS Root", ca=True)
    intermediate = issue("Test MDS Intermediate", issuer=root, ca=True)
    key = leaf_key or (rsa_key() if rsa_leaf else None)
    leaf = issue(name, issuer=intermediate, key=key)
    return Signer(root, intermediate, leaf)


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jws_signature(alg: str, signer: Issued, message: bytes) -> bytes:
    key = signer.key
    if alg == "ES256":
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert isinstance(key, rsa.RSAPrivateKey)
    if alg == "PS256":
        pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
        return key.sign(message, pss, hashes.SHA256())
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def payload(entries: Sequence[Mapping[str, Any]], *, no: int = 7, **extra: Any) -> dict[str, Any]:
    return {
        "legalHeader": LEGAL,
        "no": no,
        "nextUpdate": NEXT_UPDATE,
        "entries": list(entries),
    } | extra


def entry(
    description: str,
    reports: Sequence[tuple[str, str]],
    *,
    aaguid: str | None = None,
    key_ids: Sequence[str] = (),
    far: float | None = None,
    roots: Sequence[bytes] = (),
    **extra: Any,
) -> dict[str, Any]:
    """One payload entry: ``reports`` are (status, effectiveDate) in the order given."""
    methods: list[list[dict[str, Any]]] = [
        [{"userVerificationMethod": "none"}],
        [{"userVerificationMethod": "presence_internal"}],
    ]
    if far is not None:
        biometric = {
            "selfAttestedFRR": 0.01,
            "selfAttestedFAR": far,
            "iAPARThreshold": 0.0,
            "maxTemplates": 5,
            "maxRetries": 5,
            "blockSlowdown": 0,
        }
        methods.append([{"userVerificationMethod": "fingerprint_internal", "baDesc": biometric}])
    statement: dict[str, Any] = {
        "legalHeader": "Submission of this statement indicates acceptance of the agreement.",
        "description": description,
        "authenticatorVersion": 1,
        "protocolFamily": "fido2" if aaguid else "u2f",
        "schema": 3,
        "upv": [{"major": 1, "minor": 0}],
        "authenticationAlgorithms": ["secp256r1_ecdsa_sha256_raw"],
        "publicKeyAlgAndEncodings": ["cose"],
        "attestationTypes": ["basic_full"],
        "userVerificationDetails": methods,
        "keyProtection": ["hardware", "secure_element"],
        "matcherProtection": ["on_chip"],
        "attachmentHint": ["external", "wired"],
        "tcDisplay": [],
        "attestationRootCertificates": [base64.b64encode(der).decode() for der in roots],
        "icon": "data:image/png;base64,iVBORw0KGgo=",
    }
    item: dict[str, Any] = {
        "metadataStatement": statement,
        "statusReports": [{"status": s, "effectiveDate": d} for s, d in reports],
        "timeOfLastStatusChange": max((d for _, d in reports), default="2020-01-01"),
    }
    if aaguid:
        item["aaguid"] = statement["aaguid"] = aaguid
    if key_ids:
        item["attestationCertificateKeyIdentifiers"] = list(key_ids)
        statement["attestationCertificateKeyIdentifiers"] = list(key_ids)
    return item | extra


def biometric_report(modality: str = "fingerprint_internal") -> dict[str, Any]:
    """A biometricStatusReports member as MDS 3.0 §3.1.3 defines it (date as a string)."""
    return {
        "certLevel": 1,
        "modality": modality,
        "effectiveDate": "2023-02-01",
        "certificationDescriptor": "Test Fingerprint Sensor",
        "certificateNumber": "BIO-2023-0001",
        "certificationPolicyVersion": "1.5.0",
        "certificationRequirementsVersion": "2.0.0",
    }


def current_signer(*, days: int = 30) -> Signer:
    """A signing chain valid now, for BLOBs the service verifies at the current time."""
    start = datetime.now(UTC) - timedelta(days=1)
    end = start + timedelta(days=days + 1)
    root = issue("Test MDS Root", ca=True, not_before=start, not_after=end)
    intermediate = issue(
        "Test MDS Intermediate", issuer=root, ca=True, not_before=start, not_after=end
    )
    leaf = issue("mds.fidoalliance.org", issuer=intermediate, not_before=start, not_after=end)
    return Signer(root, intermediate, leaf)
