"""AndroidKeyAttestation (WebAuthn L3 §8.4): one test per verification step, on made-up chains.

The KeyDescription here is encoded independently of the verifier's schema, with asn1crypto
primitives, so a schema mistake in the verifier cannot cancel out in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.attestation.base import AttestationType, InvalidData, InvalidSignature
from fido2.webauthn import AttestationObject

from authsvc.errors import AttestationInvalid
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.android_key import OID_KEY_DESCRIPTION, AndroidKeyAttestation
from authsvc.trust.statement import verify_attestation
from tests.unit.trust.builders import (
    CLIENT_DATA_HASH,
    T0,
    attestation,
    auth_data,
    cose_es256,
    issue,
    p256_key,
    sign_es256,
)

SIGN, VERIFY = 2, 3
GENERATED, IMPORTED = 0, 2


class _Purposes(core.SetOf):  # type: ignore[misc]
    _child_spec = core.Integer


class _Level(core.Enumerated):  # type: ignore[misc]
    _map: ClassVar[dict[int, str]] = {0: "software", 1: "trusted_environment"}


def purpose(*values: int) -> Any:
    return _Purposes(list(values), explicit=1)


def origin(value: int) -> Any:
    return core.Integer(value, explicit=702)


def all_applications() -> Any:
    return core.Null(explicit=600)


def unknown(tag: int) -> Any:
    return core.OctetString(b"future", explicit=tag)


def key_description(challenge: bytes, software: Sequence[Any], tee: Sequence[Any]) -> bytes:
    def authorization_list(entries: Sequence[Any]) -> Any:
        return core.Sequence(contents=b"".join(entry.dump() for entry in entries))

    fields = [
        core.Integer(300),
        _Level(1),
        core.Integer(300),
        _Level(1),
        core.OctetString(challenge),
        core.OctetString(b""),
        authorization_list(software),
        authorization_list(tee),
    ]
    return bytes(core.Sequence(contents=b"".join(f.dump() for f in fields)).dump())


TEE_OK = (purpose(SIGN), unknown(705), origin(GENERATED), unknown(718))
SOFTWARE_OK = (unknown(701), unknown(709))


def android_key(
    *,
    challenge: bytes = CLIENT_DATA_HASH,
    software: Sequence[Any] = SOFTWARE_OK,
    tee: Sequence[Any] = TEE_OK,
    credential_key: ec.EllipticCurvePrivateKey | None = None,
    alg: int = -7,
    with_extension: bool = True,
) -> tuple[AttestationObject, TrustAnchors]:
    """A statement whose leaf key signs; the credential key is the leaf key unless given."""
    root = issue("Android Root", ca=True)
    intermediate = issue("TEE", issuer=root, ca=True)
    leaf_key = p256_key()
    extension = x509.UnrecognizedExtension(
        OID_KEY_DESCRIPTION, key_description(challenge, software, tee)
    )
    leaf = issue(
        "Android Keystore Key",
        issuer=intermediate,
        key=leaf_key,
        ca=None,
        extensions=[extension] if with_extension else [],
    )
    data = auth_data(cose_es256(credential_key or leaf_key))
    statement = {
        "alg": alg,
        "sig": sign_es256(leaf_key, data + CLIENT_DATA_HASH),
        "x5c": [leaf.der, intermediate.der, root.der],
    }
    return attestation("android-key", data, statement), TrustAnchors((root.cert,))


def verify(att: AttestationObject, *, tee_only: bool = True) -> Any:
    return AndroidKeyAttestation(tee_only=tee_only).verify(
        att.att_stmt, att.auth_data, CLIENT_DATA_HASH
    )


def test_valid_statement_with_unknown_tags_is_basic_and_trusted() -> None:
    att, anchors = android_key()
    result = verify(att)
    assert result.attestation_type == AttestationType.BASIC
    assert result.trust_path == att.att_stmt["x5c"]
    outcome = verify_attestation(
        att, CLIENT_DATA_HASH, anchors=anchors, at=T0, require_trusted=True
    )
    assert (outcome.fmt, outcome.attestation_type, outcome.trust) == (
        "android-key",
        "basic",
        "trusted",
    )


def test_signature_must_verify() -> None:
    att, _ = android_key()
    statement = {**att.att_stmt, "sig": sign_es256(p256_key(), b"something else")}
    with pytest.raises(InvalidSignature):
        verify(attestation("android-key", att.auth_data, statement))


def test_alg_must_fit_the_certificate_key() -> None:
    att, _ = android_key(alg=-257)
    with pytest.raises(InvalidData, match="alg is not an algorithm of the certificate"):
        verify(att)


def test_certificate_key_must_be_the_credential_key() -> None:
    att, _ = android_key(credential_key=p256_key())
    with pytest.raises(InvalidData, match="not the credential public key"):
        verify(att)


def test_challenge_must_be_the_client_data_hash() -> None:
    att, _ = android_key(challenge=bytes(32))
    with pytest.raises(InvalidData, match="attestationChallenge"):
        verify(att)


@pytest.mark.parametrize("where", ["software", "tee"])
def test_all_applications_absent_from_both_lists(where: str) -> None:
    lists = {"software": [*SOFTWARE_OK], "tee": [*TEE_OK]}
    lists[where].append(all_applications())
    att, _ = android_key(software=lists["software"], tee=lists["tee"])
    with pytest.raises(InvalidData, match="all applications"):
        verify(att, tee_only=False)


@pytest.mark.parametrize(
    "tee",
    [(purpose(SIGN), origin(IMPORTED)), (purpose(SIGN),)],
    ids=["imported", "origin-absent"],
)
def test_origin_must_be_generated(tee: Sequence[Any]) -> None:
    att, _ = android_key(tee=tee)
    with pytest.raises(InvalidData, match="not generated"):
        verify(att)


@pytest.mark.parametrize(
    "tee",
    [
        (purpose(VERIFY), origin(GENERATED)),
        (purpose(SIGN, VERIFY), origin(GENERATED)),
        (origin(GENERATED),),
    ],
    ids=["verify", "sign-and-verify", "purpose-absent"],
)
def test_purpose_must_be_sign(tee: Sequence[Any]) -> None:
    att, _ = android_key(tee=tee)
    with pytest.raises(InvalidData, match="purpose"):
        verify(att)


def test_software_list_counts_only_when_tee_is_not_required() -> None:
    att, _ = android_key(software=(purpose(SIGN), origin(GENERATED)), tee=())
    with pytest.raises(InvalidData):
        verify(att)
    assert verify(att, tee_only=False).attestation_type == AttestationType.BASIC


def test_union_still_rejects_a_contradicting_origin() -> None:
    att, _ = android_key(software=(origin(IMPORTED),), tee=TEE_OK)
    with pytest.raises(InvalidData, match="not generated"):
        verify(att, tee_only=False)


def test_extension_is_required() -> None:
    att, _ = android_key(with_extension=False)
    with pytest.raises(InvalidData, match="no key description"):
        verify(att)


@pytest.mark.parametrize(
    "tee",
    [(purpose(SIGN), origin(GENERATED), origin(GENERATED)), (core.Integer(5),)],
    ids=["duplicate-tag", "untagged-entry"],
)
def test_malformed_authorization_list(tee: Sequence[Any]) -> None:
    att, _ = android_key(tee=tee)
    with pytest.raises(InvalidData):
        verify(att)


@pytest.mark.parametrize(
    "statement",
    [
        {},
        {"alg": -7, "sig": b"", "x5c": []},
        {"alg": "-7", "sig": b"", "x5c": [b"x"]},
        {"alg": -7, "sig": b"", "x5c": [b"not a certificate"]},
    ],
    ids=["empty", "no-certificates", "alg-text", "garbage-certificate"],
)
def test_malformed_statement_is_invalid(statement: dict[str, Any]) -> None:
    att, anchors = android_key()
    broken = attestation("android-key", att.auth_data, statement)
    with pytest.raises(InvalidData):
        verify(broken)
    with pytest.raises(AttestationInvalid):
        verify_attestation(broken, CLIENT_DATA_HASH, anchors=anchors, at=T0, require_trusted=False)
