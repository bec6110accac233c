"""The options a client passes to ``navigator.credentials.create()`` / ``.get()``.

They are emitted in the WebAuthn Level 3 JSON forms (camelCase, base64url without padding),
so ``PublicKeyCredential.parseCreationOptionsFromJSON``, iOS and Android Credential Manager
can use them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from authsvc.encoding import b64url_encode


@dataclass(frozen=True, slots=True)
class KnownCredential:
    """A registered credential as options list it (exclude / allow lists)."""

    credential_id: bytes
    transports: tuple[str, ...]


def _descriptors(credentials: Iterable[KnownCredential]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for cred in credentials:
        descriptor: dict[str, Any] = {"type": "public-key", "id": b64url_encode(cred.credential_id)}
        if cred.transports:
            descriptor["transports"] = list(cred.transports)
        out.append(descriptor)
    return out


def creation_options(
    *,
    rp_id: str,
    rp_name: str,
    user_handle: bytes,
    username: str,
    display_name: str,
    challenge: bytes,
    algorithms: Iterable[int],
    timeout_ms: int,
    exclude: Iterable[KnownCredential],
    authenticator_selection: Mapping[str, Any],
    attestation: str,
    extensions: Mapping[str, Any],
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptionsJSON."""
    return {
        "rp": {"id": rp_id, "name": rp_name},
        "user": {"id": b64url_encode(user_handle), "name": username, "displayName": display_name},
        "challenge": b64url_encode(challenge),
        "pubKeyCredParams": [{"type": "public-key", "alg": alg} for alg in algorithms],
        "timeout": timeout_ms,
        "excludeCredentials": _descriptors(exclude),
        "authenticatorSelection": dict(authenticator_selection),
        "attestation": attestation,
        "extensions": dict(extensions),
    }


def request_options(
    *,
    rp_id: str,
    challenge: bytes,
    timeout_ms: int,
    allow: Iterable[KnownCredential],
    user_verification: str,
    extensions: Mapping[str, Any],
) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptionsJSON."""
    return {
        "challenge": b64url_encode(challenge),
        "timeout": timeout_ms,
        "rpId": rp_id,
        "allowCredentials": _descriptors(allow),
        "userVerification": user_verification,
        "extensions": dict(extensions),
    }
