"""The registration vectors of ``shared/vectors``, read as the trust layer sees them."""

from __future__ import annotations

import hashlib

from fido2.utils import websafe_decode
from fido2.webauthn import AttestationObject

from authsvc.trust.anchors import TrustAnchors
from tests.shared import Vector, load_vectors


class RegistrationVector(Vector):
    """A registration vector with the values the trust layer is called with."""

    def _response_field(self, key: str) -> bytes:
        return websafe_decode(self.data["response"]["response"][key])

    def attestation(self) -> AttestationObject:
        return AttestationObject(self._response_field("attestationObject"))

    @property
    def client_data_hash(self) -> bytes:
        return hashlib.sha256(self._response_field("clientDataJSON")).digest()

    @property
    def anchors(self) -> TrustAnchors:
        return TrustAnchors.from_pem_strings(self.trust_roots)

    @property
    def require_trusted(self) -> bool:
        return bool(self.trust_roots)


def registration_vectors() -> list[RegistrationVector]:
    """Every registration vector in the folder, so a new file is picked up unasked."""
    return load_vectors("registration", RegistrationVector)


def registration_vector(name: str) -> RegistrationVector:
    return next(v for v in registration_vectors() if v.name == name)
