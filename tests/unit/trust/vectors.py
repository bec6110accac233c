"""The registration vectors of ``shared/vectors``, read as the trust layer sees them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fido2.utils import websafe_decode
from fido2.webauthn import AttestationObject

from authsvc.trust.anchors import TrustAnchors
from tests.shared import VECTORS


@dataclass(frozen=True)
class RegistrationVector:
    name: str
    data: dict[str, Any]

    @property
    def expected(self) -> dict[str, Any]:
        expected: dict[str, Any] = self.data["expected"]
        return expected

    def _response_field(self, key: str) -> bytes:
        return websafe_decode(self.data["response"]["response"][key])

    def attestation(self) -> AttestationObject:
        return AttestationObject(self._response_field("attestationObject"))

    @property
    def client_data_hash(self) -> bytes:
        return hashlib.sha256(self._response_field("clientDataJSON")).digest()

    @property
    def anchors(self) -> TrustAnchors:
        return TrustAnchors.from_pem_strings(self.data.get("trust_roots") or [])

    @property
    def require_trusted(self) -> bool:
        return bool(self.data.get("trust_roots"))

    @property
    def at(self) -> datetime:
        """``verify_at``; vectors without a chain have none and any time will do."""
        verify_at = self.data.get("verify_at")
        return datetime.fromisoformat(verify_at) if verify_at else datetime.now(UTC)


def registration_vectors() -> list[RegistrationVector]:
    """Every registration vector in the folder, so a new file is picked up unasked."""
    files = sorted(VECTORS.glob("*.json"))
    assert files, f"no vectors in {VECTORS}"
    vectors = [RegistrationVector(p.stem, json.loads(p.read_text("utf-8"))) for p in files]
    return [v for v in vectors if v.data["ceremony"] == "registration"]


def registration_vector(name: str) -> RegistrationVector:
    return next(v for v in registration_vectors() if v.name == name)
