"""Hostile statements: whatever the bytes, verify_attestation returns or raises our errors.

Statements start from the real vectors (so the deep code paths are reached) with one field
replaced by arbitrary CBOR or one byte flipped, or are made up from scratch per format.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from fido2.attestation.base import InvalidAttestation, InvalidSignature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authsvc.errors import AttestationInvalid, AttestationUntrusted
from authsvc.trust.android_key import AndroidKeyAttestation
from authsvc.trust.statement import AttestationOutcome, verify_attestation
from tests.unit.trust.builders import attestation
from tests.unit.trust.vectors import RegistrationVector, registration_vectors

FIELDS = ["alg", "sig", "x5c", "ver", "response", "certInfo", "pubArea", "ecdaaKeyId"]
FORMATS = ["packed", "tpm", "android-key", "android-safetynet", "apple", "fido-u2f", "none"]
BASES = [v for v in registration_vectors() if v.expected["ok"] and v.expected["fmt"] != "none"]

scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.binary(max_size=80)
    | st.text(max_size=12)
)
cbor_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers(-4, 4), children, max_size=4)
    ),
    max_leaves=10,
)
relaxed = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome_of(vector: RegistrationVector, fmt: str, statement: dict[str, Any]) -> None:
    att = attestation(fmt, vector.attestation().auth_data, statement)
    try:
        result = verify_attestation(
            att,
            vector.client_data_hash,
            anchors=vector.anchors,
            at=vector.at,
            require_trusted=False,
        )
    except AttestationInvalid:
        return
    assert isinstance(result, AttestationOutcome)


@relaxed
@given(st.sampled_from(BASES), st.sampled_from(FIELDS), cbor_values)
def test_one_field_replaced(vector: RegistrationVector, field: str, value: Any) -> None:
    real = vector.attestation()
    outcome_of(vector, real.fmt, {**real.att_stmt, field: value})


#: The statement fields a signature covers (or that are the signature): any change is refused.
SIGNED_FIELDS = ["sig", "certInfo", "pubArea", "response"]
#: What a changed signed field may be refused as: the signature check, or the parse before it.
SIGNED_REASONS = {
    "the attestation signature does not verify",
    "the attestation statement is invalid",
    "SafetyNet response is from the future",
    "SafetyNet response is too old",
    "SafetyNet timestampMs is not an integer",
}


def damaged(value: bytes, data: st.DataObject) -> tuple[bytes, bool]:
    """``value`` with one byte flipped or cut short at a drawn position; True when cut."""
    position = data.draw(st.integers(0, len(value) - 1))
    if data.draw(st.booleans()):
        return value[:position], True
    flipped = value[position] ^ data.draw(st.integers(1, 255))
    return value[:position] + bytes([flipped]) + value[position + 1 :], False


def refusal(vector: RegistrationVector, fmt: str, statement: dict[str, Any]) -> AttestationInvalid:
    """The AttestationInvalid that ``statement`` must be refused with (the test fails if not)."""
    att = attestation(fmt, vector.attestation().auth_data, statement)
    with pytest.raises(AttestationInvalid) as err:
        verify_attestation(
            att,
            vector.client_data_hash,
            anchors=vector.anchors,
            at=vector.at,
            require_trusted=False,
        )
    assert err.value.code == "attestation_invalid"
    return err.value


SIGNED = [
    (vector, field)
    for vector in BASES
    for field in SIGNED_FIELDS
    if isinstance(vector.attestation().att_stmt.get(field), bytes)
]


@relaxed
@given(st.sampled_from(SIGNED), st.data())
def test_a_flipped_or_cut_signed_byte_is_refused(
    signed: tuple[RegistrationVector, str], data: st.DataObject
) -> None:
    """Every byte of sig, certInfo, pubArea and a SafetyNet response is covered by a check."""
    vector, field = signed
    real = vector.attestation()
    changed, _ = damaged(real.att_stmt[field], data)
    error = refusal(vector, real.fmt, {**real.att_stmt, field: changed})
    if field == "sig":
        assert error.detail == "the attestation signature does not verify"
    else:
        assert error.detail in SIGNED_REASONS


WITH_CHAIN = [v for v in BASES if isinstance(v.attestation().att_stmt.get("x5c"), list)]


@relaxed
@given(st.sampled_from(WITH_CHAIN), st.data())
def test_a_damaged_attestation_certificate_is_never_trusted(
    vector: RegistrationVector, data: st.DataObject
) -> None:
    """A cut leaf does not parse; a flipped one may verify the statement, never the chain.

    A flip outside the leaf's key and subject leaves the statement's signature valid, so
    only the chain check (the leaf's own signature by its issuer) can catch it. A damaged
    certificate above the leaf may leave a path from the anchors, so it must only never
    crash the verifier.
    """
    real = vector.attestation()
    x5c = real.att_stmt["x5c"]
    index = data.draw(st.integers(0, len(x5c) - 1))
    changed, cut = damaged(x5c[index], data)
    statement = {**real.att_stmt, "x5c": [*x5c[:index], changed, *x5c[index + 1 :]]}
    if index > 0:  # a chain certificate: the path may still be built from the anchors
        outcome_of(vector, real.fmt, statement)
        return
    if cut:
        assert refusal(vector, real.fmt, statement).detail == "the attestation statement is invalid"
        return
    att = attestation(real.fmt, real.auth_data, statement)
    outcome: AttestationOutcome | AttestationInvalid
    try:
        outcome = verify_attestation(
            att,
            vector.client_data_hash,
            anchors=vector.anchors,
            at=vector.at,
            require_trusted=False,
        )
    except AttestationInvalid as exc:
        outcome = exc
    if isinstance(outcome, AttestationInvalid):
        assert outcome.detail in SIGNED_REASONS
        return
    assert not outcome.trusted
    with pytest.raises(AttestationUntrusted):
        verify_attestation(
            att, vector.client_data_hash, anchors=vector.anchors, at=vector.at, require_trusted=True
        )


@relaxed
@given(
    st.sampled_from(BASES),
    st.sampled_from(FORMATS),
    st.dictionaries(st.sampled_from(FIELDS), cbor_values, max_size=5),
)
def test_made_up_statement(vector: RegistrationVector, fmt: str, statement: dict[str, Any]) -> None:
    outcome_of(vector, fmt, statement)


ANDROID_KEY = [v for v in BASES if v.expected["fmt"] == "android-key"]


@relaxed
@given(st.sampled_from(ANDROID_KEY), st.data())
def test_android_key_verifier_refuses_a_flipped_or_cut_signature(
    vector: RegistrationVector, data: st.DataObject
) -> None:
    """Our own verifier, called directly, refuses every changed ``sig`` as fido2's would."""
    real = vector.attestation()
    changed, _ = damaged(real.att_stmt["sig"], data)
    with pytest.raises(InvalidSignature, match="android-key signature does not verify"):
        AndroidKeyAttestation().verify(
            {**real.att_stmt, "sig": changed}, real.auth_data, vector.client_data_hash
        )


@relaxed
@given(st.sampled_from(ANDROID_KEY), st.sampled_from(FIELDS), cbor_values, st.data())
def test_android_key_verifier_raises_only_fido2_errors(
    vector: RegistrationVector, field: str, value: Any, data: st.DataObject
) -> None:
    """Like fido2's verifiers, ours turns every bad input into an InvalidAttestation."""
    real = vector.attestation()
    statement = {**real.att_stmt, field: value}
    if data.draw(st.booleans()):  # a damaged certificate instead of a replaced field
        leaf = bytearray(real.att_stmt["x5c"][0])
        leaf[data.draw(st.integers(0, len(leaf) - 1))] ^= data.draw(st.integers(1, 255))
        statement = {**real.att_stmt, "x5c": [bytes(leaf), *real.att_stmt["x5c"][1:]]}
    with contextlib.suppress(InvalidAttestation):
        AndroidKeyAttestation().verify(statement, real.auth_data, vector.client_data_hash)
