"""Every registration vector of ``shared/vectors`` through verify_attestation.

Each runs with its own trust roots and a clock at its ``verify_at``; trust is required
exactly when the vector has roots. Negative vectors whose expected code is not an
attestation code fail at a step before the statement (type, rpIdHash, parsing): they are
left out here by their code, never by name, and run whole in ``tests/vectors``.
"""

from __future__ import annotations

import pytest

from authsvc.errors import AttestationInvalid, AttestationUntrusted, AuthError
from authsvc.trust.statement import AttestationOutcome, verify_attestation
from tests.unit.trust.vectors import RegistrationVector, registration_vectors

ERRORS: dict[str, type[AuthError]] = {
    "attestation_invalid": AttestationInvalid,
    "attestation_untrusted": AttestationUntrusted,
}


def verify(vector: RegistrationVector) -> AttestationOutcome:
    return verify_attestation(
        vector.attestation(),
        vector.client_data_hash,
        anchors=vector.anchors,
        at=vector.at,
        require_trusted=vector.require_trusted,
    )


def _reaches_the_statement(vector: RegistrationVector) -> bool:
    return bool(vector.expected["ok"]) or vector.expected["code"] in ERRORS


@pytest.mark.parametrize(
    "vector", [v for v in registration_vectors() if _reaches_the_statement(v)], ids=lambda v: v.name
)
def test_registration_vector(vector: RegistrationVector) -> None:
    expected = vector.expected
    if not expected["ok"]:
        with pytest.raises(ERRORS[expected["code"]]):
            verify(vector)
        return
    outcome = verify(vector)
    assert (outcome.fmt, outcome.attestation_type, outcome.trusted) == (
        expected["fmt"],
        expected["attestation_type"],
        expected["trusted"],
    )


def test_folder_has_registrations_of_every_supported_format() -> None:
    formats = {v.expected.get("fmt") for v in registration_vectors() if v.expected["ok"]}
    assert formats >= {
        "packed",
        "tpm",
        "android-key",
        "android-safetynet",
        "apple",
        "fido-u2f",
        "none",
    }
