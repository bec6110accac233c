"""verify_attestation: dispatch by format, trust as of ``at``, the outcome, our error classes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fido2.webauthn import AttestationObject, AuthenticatorData

from authsvc.errors import AttestationInvalid, AttestationUntrusted
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.statement import AttestationOutcome, verify_attestation
from tests.unit.trust.builders import (
    RP_ID_HASH,
    T0,
    Issued,
    attestation,
    auth_data,
    cose_es256,
    p256_key,
    packed,
    verify,
)
from tests.unit.trust.vectors import registration_vector


def test_packed_full_attestation_trust(root: Issued) -> None:
    att = packed(root)
    anchors = TrustAnchors((root.cert,))
    trusted = verify(att, anchors, require_trusted=True)
    assert (trusted.attestation_type, trusted.trusted, trusted.trust) == ("basic", True, "trusted")
    assert trusted.trust_path == tuple(att.att_stmt["x5c"])
    untrusted = verify(att)  # no anchors, trust not required: recorded as untrusted
    assert (untrusted.trusted, untrusted.trust) == (False, "untrusted")
    with pytest.raises(AttestationUntrusted):
        verify(att, require_trusted=True)
    with pytest.raises(AttestationUntrusted):  # the leaf expires after T0 + 1 year
        verify(att, anchors, require_trusted=True, at=T0 + timedelta(days=400))


@pytest.mark.parametrize("fmt", ["x-unknown", "", "ecdaa", "Packed", 7])
def test_unknown_format(fmt: Any) -> None:
    with pytest.raises(AttestationInvalid, match="unsupported attestation statement format"):
        verify(AttestationObject.create(fmt, auth_data(cose_es256(p256_key())), {}))


def test_authenticator_data_without_credential() -> None:
    flags = AuthenticatorData.FLAG.UP
    data = AuthenticatorData.create(RP_ID_HASH, flags, 0)
    with pytest.raises(AttestationInvalid, match="no attested credential"):
        verify(attestation("none", data, {}))


def test_none_attestation_statement_must_be_empty() -> None:
    with pytest.raises(AttestationInvalid):
        verify(attestation("none", auth_data(cose_es256(p256_key())), {"x5c": []}))


@pytest.mark.parametrize(
    "name", ["none-browser-es256-registration", "packed-chrome-touch-id-self-registration"]
)
def test_no_chain_cannot_satisfy_required_trust(name: str) -> None:
    vector = registration_vector(name)
    with pytest.raises(AttestationUntrusted, match="no chain to trust"):
        verify_attestation(
            vector.attestation(),
            vector.client_data_hash,
            anchors=vector.anchors,
            at=T0,
            require_trusted=True,
        )


def test_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(
            attestation("none", auth_data(cose_es256(p256_key())), {}), at=T0.replace(tzinfo=None)
        )


@pytest.mark.parametrize(
    ("attestation_type", "trusted", "trust"),
    [
        ("none", False, "none"),
        ("self", False, "self"),
        ("basic", True, "trusted"),
        ("attca", False, "untrusted"),
        ("anonca", True, "trusted"),
    ],
)
def test_outcome_trust(attestation_type: str, trusted: bool, trust: str) -> None:
    assert AttestationOutcome("packed", attestation_type, (), trusted).trust == trust
