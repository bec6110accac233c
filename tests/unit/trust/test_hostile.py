"""Hostile statements: whatever the bytes, verify_attestation returns or raises our errors.

Statements start from the real vectors (so the deep code paths are reached) with one field
replaced by arbitrary CBOR or one byte flipped, or are made up from scratch per format.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fido2.attestation.base import InvalidAttestation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authsvc.errors import AttestationInvalid
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


@relaxed
@given(st.sampled_from(BASES), st.sampled_from(FIELDS), st.data())
def test_one_byte_flipped_or_cut(
    vector: RegistrationVector, field: str, data: st.DataObject
) -> None:
    real = vector.attestation()
    statement = dict(real.att_stmt)
    value = statement.get(field)
    index = 0
    if isinstance(value, list) and value:
        index = data.draw(st.integers(0, len(value) - 1))
        value = value[index]
    if not isinstance(value, bytes) or not value:
        return
    position = data.draw(st.integers(0, len(value) - 1))
    if data.draw(st.booleans()):
        changed = (
            value[:position]
            + bytes([value[position] ^ data.draw(st.integers(1, 255))])
            + value[position + 1 :]
        )
    else:
        changed = value[:position]
    if isinstance(statement[field], list):
        statement[field] = [*statement[field][:index], changed, *statement[field][index + 1 :]]
    else:
        statement[field] = changed
    outcome_of(vector, real.fmt, statement)


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
