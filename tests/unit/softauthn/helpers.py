"""Options, parsers and verifiers shared by the software authenticator's tests.

The software authenticator is checked against python-fido2 alone (no service involved):
everything it emits is parsed with fido2's own types, every attestation statement is checked by
fido2's verifiers, and every assertion signature by the COSE key from registration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from fido2.attestation.base import Attestation as Fido2Attestation
from fido2.attestation.base import (
    AttestationResult,
    AttestationVerifier,
    NoneAttestation,
)
from fido2.attestation.packed import PackedAttestation
from fido2.attestation.u2f import FidoU2FAttestation
from fido2.cose import CoseKey
from fido2.webauthn import AttestationObject, AuthenticatorData, CollectedClientData
from typing_extensions import override

from tests.softauthn import (
    Alg,
    b64url,
    b64url_decode,
)

RP_ID = "example.com"
ORIGIN = "https://example.com"
USER_ID = b"user-handle-0001"
CHALLENGE = b"\x01" * 32
ALL_ALGS = (Alg.ES256, Alg.EdDSA, Alg.RS256, Alg.PS256)


def creation_options(
    *,
    algs: Iterable[int] = (-7, -8, -37, -257),
    exclude: Iterable[bytes] = (),
    resident_key: str = "required",
    challenge: bytes = CHALLENGE,
) -> dict[str, Any]:
    """Options shaped like the service's, with its extra status keys."""
    return {
        "status": "ok",
        "errorMessage": "",
        "rp": {"id": RP_ID, "name": "Example"},
        "user": {"id": b64url(USER_ID), "name": "alice", "displayName": "Alice"},
        "challenge": b64url(challenge),
        "pubKeyCredParams": [{"type": "public-key", "alg": a} for a in algs],
        "timeout": 60000,
        "excludeCredentials": [{"type": "public-key", "id": b64url(i)} for i in exclude],
        "authenticatorSelection": {"residentKey": resident_key, "userVerification": "required"},
        "attestation": "direct",
        "extensions": {},
    }


def request_options(
    *, allow: Iterable[bytes] = (), rp_id: str | None = RP_ID, challenge: bytes = CHALLENGE
) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptionsJSON like the service's."""
    options: dict[str, Any] = {
        "status": "ok",
        "errorMessage": "",
        "challenge": b64url(challenge),
        "timeout": 60000,
        "allowCredentials": [
            {"type": "public-key", "id": b64url(i), "transports": ["internal"]} for i in allow
        ],
        "userVerification": "required",
        "extensions": {},
    }
    if rp_id is not None:
        options["rpId"] = rp_id
    return options


def field(response: Mapping[str, Any], name: str) -> bytes:
    """Decode a base64url field of ``response["response"]``."""
    return b64url_decode(response["response"][name])


def registration(response: Mapping[str, Any]) -> tuple[AttestationObject, CollectedClientData]:
    """Parse a RegistrationResponseJSON with fido2."""
    return (
        AttestationObject(field(response, "attestationObject")),
        CollectedClientData(field(response, "clientDataJSON")),
    )


def verify_statement(att: AttestationObject, client_data: bytes) -> AttestationResult:
    """Verify the attestation statement with fido2's verifier for its format."""
    verifiers: dict[str, Fido2Attestation] = {
        "none": NoneAttestation(),
        "packed": PackedAttestation(),
        "fido-u2f": FidoU2FAttestation(),
    }
    return verifiers[att.fmt].verify(
        att.att_stmt, att.auth_data, hashlib.sha256(client_data).digest()
    )


class RootVerifier(AttestationVerifier):
    """fido2's full check: statement, then the x5c chain up to the given root."""

    def __init__(self, root_der: bytes) -> None:
        super().__init__([PackedAttestation(), FidoU2FAttestation()])
        self.root_der = root_der

    @override
    def ca_lookup(self, attestation_result: AttestationResult, auth_data: Any) -> bytes | None:
        """Always the one test root."""
        return self.root_der


def cose_key_of(response: Mapping[str, Any]) -> CoseKey:
    """The credential public key from a registration response."""
    att, _ = registration(response)
    assert att.auth_data.credential_data is not None
    return att.auth_data.credential_data.public_key


def verify_assertion(response: Mapping[str, Any], key: CoseKey) -> AuthenticatorData:
    """Check an assertion's signature with ``key``; return its parsed authenticator data."""
    auth_data = field(response, "authenticatorData")
    client_data = field(response, "clientDataJSON")
    key.verify(auth_data + hashlib.sha256(client_data).digest(), field(response, "signature"))
    return AuthenticatorData(auth_data)


def client_data_dict(response: Mapping[str, Any]) -> dict[str, Any]:
    """clientDataJSON as a dict."""
    value: dict[str, Any] = json.loads(field(response, "clientDataJSON"))
    return value
