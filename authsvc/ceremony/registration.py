"""Registration verification: WebAuthn Level 3 §7.1, one guard per step, in the spec's order.

Plain Python: no Flask, no database. The caller supplies what was asked for (the consumed
pending ceremony) and the trust anchors; this module says whether the response proves a
new credential and returns exactly what the relying party stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.constant_time import bytes_eq
from fido2.webauthn import Aaguid

from authsvc.ceremony.checks import (
    Expectation,
    Flags,
    check_auth_data_flags,
    check_client_data,
)
from authsvc.ceremony.keys import build_verifier, cose_algorithm
from authsvc.ceremony.responses import MAX_CREDENTIAL_ID_BYTES, RegistrationResponse
from authsvc.errors import Malformed, UnsupportedAlgorithm
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.statement import verify_attestation


@dataclass(frozen=True, slots=True)
class VerifiedRegistration:
    """Exactly what the relying party stores for a new credential."""

    credential_id: bytes
    public_key: bytes
    algorithm: int
    sign_count: int
    aaguid: bytes
    fmt: str
    attestation_type: str
    trusted: bool
    trust: str
    flags: Flags
    transports: tuple[str, ...]
    attachment: str | None

    @property
    def aaguid_text(self) -> str:
        return str(Aaguid(self.aaguid))


def verify_registration(
    response: RegistrationResponse,
    expected: Expectation,
    *,
    anchors: TrustAnchors,
    at: datetime,
    require_trusted: bool,
) -> VerifiedRegistration:
    """Verify a registration response; raise the AuthError of the first failing step."""
    attestation = response.attestation  # parsed already: §7.1 steps 5-6 and 11-12
    auth_data = attestation.auth_data
    credential = auth_data.credential_data
    if credential is None:  # parse_attestation_object guarantees it; keeps mypy honest
        raise Malformed("attestationObject has no attested credential data")
    if not bytes_eq(credential.credential_id, response.credential_id):
        raise Malformed("rawId differs from the credential id in the authenticator data")
    check_client_data(response.client_data, expected, "webauthn.create")  # steps 7-10
    flags = check_auth_data_flags(auth_data, expected)  # steps 13-17
    algorithm = cose_algorithm(credential.public_key)  # step 18
    if algorithm not in expected.algorithms:
        raise UnsupportedAlgorithm(f"algorithm {algorithm} was not offered")
    build_verifier(credential.public_key)  # the key must be usable before we store it
    outcome = verify_attestation(  # steps 19-22, trust at step 23-24
        attestation,
        response.client_data.hash,
        anchors=anchors,
        at=at,
        require_trusted=require_trusted,
    )
    if len(credential.credential_id) > MAX_CREDENTIAL_ID_BYTES:  # step 25
        raise Malformed("credential id is longer than 1023 bytes")
    cred_bytes = bytes(credential)
    return VerifiedRegistration(
        credential_id=bytes(credential.credential_id),
        # the COSE key as fido2 re-encoded it (canonical CBOR): the same value as received
        public_key=cred_bytes[18 + len(credential.credential_id) :],
        algorithm=algorithm,
        sign_count=auth_data.counter,
        aaguid=bytes(credential.aaguid),
        fmt=attestation.fmt,
        attestation_type=outcome.attestation_type,
        trusted=outcome.trusted,
        trust=outcome.trust,
        flags=flags,
        transports=response.transports,
        attachment=response.attachment,
    )
