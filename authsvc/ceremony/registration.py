"""Registering a new credential: WebAuthn Level 3 §7.1, every step, in order, here.

:func:`verify_registration` reads top to bottom as the Recommendation does
(https://www.w3.org/TR/webauthn-3/#sctn-registering-a-new-credential); each check carries
the number of the step it performs. Steps 1-4 are the client's and the parsing's: by the
time this runs, :func:`~authsvc.ceremony.responses.registration_response` has checked the
JSON's shape and decoded every field (steps 5-6 and 13 included), refusing malformed input
before any state was touched.

Plain Python: no Flask, no database. The caller supplies what was asked for (the consumed
pending ceremony) and the trust anchors; this function says whether the response proves a
new credential and returns exactly what the relying party stores. Step 26 (the credential
id is registered to nobody yet) is the store's unique index, checked with the insert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.constant_time import bytes_eq
from fido2.webauthn import Aaguid

from authsvc.ceremony.expectation import Expectation
from authsvc.ceremony.keys import build_verifier, cose_algorithm
from authsvc.ceremony.parsing import Flags
from authsvc.ceremony.responses import MAX_CREDENTIAL_ID_BYTES, RegistrationResponse
from authsvc.errors import (
    BackupStateInvalid,
    ChallengeMismatch,
    Malformed,
    RpIdMismatch,
    TypeMismatch,
    UnsupportedAlgorithm,
    UserNotPresent,
    UserNotVerified,
)
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.statement import verify_attestation


@dataclass(frozen=True, slots=True)
class VerifiedRegistration:
    """Exactly what the relying party stores for a new credential (§7.1 step 27)."""

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
    *,
    response: RegistrationResponse,
    expected: Expectation,
    anchors: TrustAnchors,
    at: datetime,
    require_trusted: bool,
) -> VerifiedRegistration:
    """Verify a registration response; raise the AuthError of the first step it fails.

    ``anchors`` are the roots an attestation may chain to and ``at`` the time its
    certificates are checked at; with ``require_trusted`` an attestation that chains to none
    of them is refused.
    """
    client_data = response.client_data
    attestation = response.attestation
    auth_data = attestation.auth_data
    credential = auth_data.credential_data
    if credential is None:  # parse_attestation_object guarantees it; keeps mypy honest
        raise Malformed("attestationObject has no attested credential data")

    # 3. response is the credential's: the attested credential id is credential.rawId.
    if not bytes_eq(credential.credential_id, response.credential_id):
        raise Malformed("rawId differs from the credential id in the authenticator data")

    # 5-6. C, decoded from response.clientDataJSON: done by registration_response.

    # 7. C.type is "webauthn.create".
    if client_data.type != "webauthn.create":
        raise TypeMismatch('client data type is not "webauthn.create"')

    # 8. C.challenge is the base64url encoding of options.challenge.
    if not bytes_eq(client_data.challenge.rstrip("=").encode(), expected.challenge_text):
        raise ChallengeMismatch

    # 9. C.origin is one of the RP's origins, exactly; 10-11. C.crossOrigin or C.topOrigin
    #    only when that top-level origin may embed the RP (TOP_ORIGINS).
    expected.origins.check(client_data)

    # 12. clientDataHash is SHA-256 of response.clientDataJSON (ClientData.hash); 13. the
    #     attestation object's fmt, authData and attStmt: decoded by registration_response.

    # 14. authData's rpIdHash is the SHA-256 of the RP ID.
    if not bytes_eq(auth_data.rp_id_hash, expected.rp_id_hash):
        raise RpIdMismatch
    flags = Flags.of(auth_data)

    # 15. The UP flag is set (options.mediation is never "conditional" here).
    if not flags.up:
        raise UserNotPresent

    # 16. The UV flag is set if user verification is required.
    if expected.user_verification == "required" and not flags.uv:
        raise UserNotVerified

    # 17. If the BE flag is not set, the BS flag is not set.
    if flags.bs and not flags.be:
        raise BackupStateInvalid("backup state set on a credential that is not backup eligible")

    # 18-19. BE and BS inform policy: they are returned (flags) for the caller's policy.

    # 20. The credential public key's alg is one of options.pubKeyCredParams; the key must
    #     also be a usable key of that algorithm before it is stored.
    algorithm = cose_algorithm(credential.public_key)
    if algorithm not in expected.algorithms:
        raise UnsupportedAlgorithm(f"algorithm {algorithm} was not offered")
    build_verifier(credential.public_key)

    # 21-22. The attestation statement format (fmt) is one we verify, and attStmt is a
    #        valid statement of it; 23-24. its trust path chains to one of ``anchors``
    #        (required only with ``require_trusted``).
    outcome = verify_attestation(
        attestation,
        client_data.hash,
        anchors=anchors,
        at=at,
        require_trusted=require_trusted,
    )

    # 25. credentialId is at most 1023 bytes long.
    if len(credential.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise Malformed("credential id is longer than 1023 bytes")

    # 26. The credential id is registered to nobody yet: the caller's insert checks it.
    # 27. The new credential record; 28. no extension outputs are processed; 29. the caller
    #     stores the record.
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
