"""The checks python-fido2 misses, one format at a time, each shown rejecting on its own.

Where python-fido2 alone would accept the statement, the test calls its verifier first to
prove it: the rejection then comes from our check and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from fido2.attestation.android import AndroidSafetynetAttestation
from fido2.attestation.apple import AppleAttestation
from fido2.attestation.tpm import TpmAttestation
from fido2.attestation.u2f import FidoU2FAttestation
from fido2.webauthn import AttestationObject

from authsvc.errors import AttestationInvalid
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.statement import verify_attestation
from tests.unit.trust.builders import (
    CLIENT_DATA_HASH,
    CREDENTIAL_ID,
    RP_ID_HASH,
    T0,
    Issued,
    attestation,
    auth_data,
    cose_es256,
    issue,
    name,
    p256_key,
    packed,
    rsa_key,
    sign_es256,
    verify,
)
from tests.unit.trust.vectors import registration_vector

APPLE_NONCE_OID = "1.2.840.113635.100.8.2"


# --- packed -------------------------------------------------------------------------------


def test_packed_alg_must_match_the_certificate_key(root: Issued) -> None:
    with pytest.raises(AttestationInvalid, match="packed alg does not match"):
        verify(packed(root, alg=-257))


def test_packed_x5c_must_not_be_empty(root: Issued) -> None:
    with pytest.raises(AttestationInvalid, match="at least one certificate"):
        verify(packed(root, x5c=[]))


# --- tpm ----------------------------------------------------------------------------------


def test_tpm_version_must_be_2_0() -> None:
    vector = registration_vector("tpm-windows-hello-es256-registration")
    real = vector.attestation()
    att = attestation("tpm", real.auth_data, {**real.att_stmt, "ver": "1.2"})
    TpmAttestation().verify(att.att_stmt, att.auth_data, vector.client_data_hash)  # fido2 alone
    with pytest.raises(AttestationInvalid, match="version"):
        verify_attestation(
            att,
            vector.client_data_hash,
            anchors=vector.anchors,
            at=vector.at,
            require_trusted=False,
        )


# --- fido-u2f -----------------------------------------------------------------------------


def fido_u2f(
    credential_key: ec.EllipticCurvePrivateKey, leaf: Issued, extra: int = 0
) -> AttestationObject:
    cose = cose_es256(credential_key)
    data = auth_data(cose)
    message = b"\0" + RP_ID_HASH + CLIENT_DATA_HASH + CREDENTIAL_ID + b"\4" + cose[-2] + cose[-3]
    statement = {"sig": sign_es256(leaf.key, message), "x5c": [leaf.der] * (1 + extra)}
    return attestation("fido-u2f", data, statement)


def test_fido_u2f_p256_is_accepted(root: Issued) -> None:
    outcome = verify(fido_u2f(p256_key(), issue("U2F", issuer=root)), TrustAnchors((root.cert,)))
    assert (outcome.attestation_type, outcome.trusted) == ("basic", True)


def test_fido_u2f_credential_key_must_be_p256(root: Issued) -> None:
    att = fido_u2f(ec.generate_private_key(ec.SECP384R1()), issue("U2F", issuer=root))
    FidoU2FAttestation().verify(att.att_stmt, att.auth_data, CLIENT_DATA_HASH)  # fido2 alone
    with pytest.raises(AttestationInvalid, match="credential key must be an ES256 key on P-256"):
        verify(att)


def test_fido_u2f_certificate_key_must_be_p256(root: Issued) -> None:
    leaf = issue("U2F", issuer=root, key=ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(AttestationInvalid, match="certificate key must be on P-256"):
        verify(fido_u2f(p256_key(), leaf))


def test_fido_u2f_needs_exactly_one_certificate(root: Issued) -> None:
    att = fido_u2f(p256_key(), issue("U2F", issuer=root), extra=1)
    FidoU2FAttestation().verify(att.att_stmt, att.auth_data, CLIENT_DATA_HASH)  # fido2 alone
    with pytest.raises(AttestationInvalid, match="exactly one certificate"):
        verify(att)


# --- apple --------------------------------------------------------------------------------


def apple(
    root: Issued,
    *,
    certified_key: ec.EllipticCurvePrivateKey,
    credential_key: ec.EllipticCurvePrivateKey,
) -> AttestationObject:
    data = auth_data(cose_es256(credential_key))
    nonce = hashlib.sha256(data + CLIENT_DATA_HASH).digest()
    extension = x509.UnrecognizedExtension(  # SEQUENCE { [1] EXPLICIT OCTET STRING nonce }
        x509.ObjectIdentifier(APPLE_NONCE_OID), b"\x30\x24\xa1\x22\x04\x20" + nonce
    )
    leaf = issue("Apple Credential", issuer=root, key=certified_key, extensions=[extension])
    return attestation("apple", data, {"x5c": [leaf.der, root.der]})


def test_apple_key_match_is_anonymous_ca(root: Issued) -> None:
    key = p256_key()
    outcome = verify(apple(root, certified_key=key, credential_key=key), TrustAnchors((root.cert,)))
    assert (outcome.attestation_type, outcome.trust) == ("anonca", "trusted")


def test_apple_certificate_key_must_be_the_credential_key(root: Issued) -> None:
    att = apple(root, certified_key=p256_key(), credential_key=p256_key())
    AppleAttestation().verify(att.att_stmt, att.auth_data, CLIENT_DATA_HASH)  # fido2 alone
    with pytest.raises(AttestationInvalid, match="apple certificate key is not the credential"):
        verify(att)


# --- android-safetynet --------------------------------------------------------------------


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def safetynet(root: Issued, timestamp_ms: object) -> AttestationObject:
    leaf = issue(name("attest.android.com", C="US", O="Google LLC"), issuer=root, key=rsa_key())
    data = auth_data(cose_es256(p256_key()))
    nonce = base64.b64encode(hashlib.sha256(data + CLIENT_DATA_HASH).digest()).decode()
    header = {"alg": "RS256", "x5c": [base64.b64encode(leaf.der).decode()]}
    payload = {
        "nonce": nonce,
        "timestampMs": timestamp_ms,
        "ctsProfileMatch": True,
        "basicIntegrity": True,
        "apkPackageName": "com.google.android.gms",
    }
    signed = _b64url(json.dumps(header).encode()) + b"." + _b64url(json.dumps(payload).encode())
    signature = rsa_key().sign(signed, padding.PKCS1v15(), hashes.SHA256())
    return attestation(
        "android-safetynet",
        data,
        {"ver": "19831037", "response": signed + b"." + _b64url(signature)},
    )


T0_MS = int(T0.timestamp() * 1000)


@pytest.mark.parametrize(
    "age_ms", [0, 59_999, -9_999], ids=["now", "almost-a-minute-old", "slightly-ahead"]
)
def test_safetynet_fresh_response(root: Issued, age_ms: int) -> None:
    outcome = verify(safetynet(root, T0_MS - age_ms), TrustAnchors((root.cert,)))
    assert (outcome.attestation_type, outcome.trust) == ("basic", "trusted")


@pytest.mark.parametrize(
    ("timestamp_ms", "reason"),
    [
        (T0_MS - 60_001, "too old"),
        (T0_MS - 86_400_000, "too old"),
        (T0_MS + 10_001, "from the future"),
        (str(T0_MS), "not an integer"),
        (True, "not an integer"),
    ],
    ids=["just-over-a-minute", "a-day-old", "too-far-ahead", "text", "boolean"],
)
def test_safetynet_timestamp_is_checked_against_at(
    root: Issued, timestamp_ms: object, reason: str
) -> None:
    att = safetynet(root, timestamp_ms)
    AndroidSafetynetAttestation().verify(att.att_stmt, att.auth_data, CLIENT_DATA_HASH)
    with pytest.raises(AttestationInvalid, match=reason):
        verify(att)
