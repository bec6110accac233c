"""The bytes and JSON a ceremony puts on the wire.

base64url, reading the service's options, the override names each ceremony accepts, and the
clientDataJSON and authenticator data builders that apply them.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from fido2 import cbor
from fido2.webauthn import AuthenticatorData

from tests.softauthn.keys import sha256

#: Authenticator data flags (UP, UV, BE, BS, AT, ED), for ``flags_set`` / ``flags_clear``.
Flag = AuthenticatorData.FLAG


def b64url(data: bytes) -> str:
    """base64url without padding, the encoding of binary fields in the WebAuthn JSON forms."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    """Decode base64url with or without padding."""
    body = value.rstrip("=")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


CLIENT_DATA_OVERRIDES = frozenset(
    {
        "client_type",
        "challenge",
        "origin_in_client_data",
        "cross_origin",
        "top_origin",
        "extra_client_data",
        "client_data_json",
    }
)
COMMON_OVERRIDES = CLIENT_DATA_OVERRIDES | {
    "rp_id",
    "flags_clear",
    "flags_set",
    "counter",
    "credential_id",
    "user_handle",
    "authenticator_extensions",
    "client_extension_results",
    "attachment",
}
CREATE_OVERRIDES = COMMON_OVERRIDES | {
    "alg",
    "alg_id",
    "aaguid",
    "attestation",
    "attestation_leaf",
    "attestation_signature_corrupt",
    "discoverable",
    "ignore_exclude",
    "transports",
}
GET_OVERRIDES = COMMON_OVERRIDES | {"corrupt_signature"}


def check_overrides(overrides: Mapping[str, Any], allowed: frozenset[str], method: str) -> None:
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise TypeError(f"{method}() got unknown override(s): {', '.join(unknown)}")


def unwrap_options(options: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept the options themselves or a ``{"publicKey": {...}}`` wrapper."""
    inner = options.get("publicKey")
    if isinstance(inner, Mapping) and "challenge" in inner:
        return inner
    return options


def descriptor_ids(descriptors: object) -> set[bytes]:
    if not isinstance(descriptors, Iterable):
        return set()
    ids: set[bytes] = set()
    for d in descriptors:
        if isinstance(d, Mapping) and d.get("type", "public-key") == "public-key":
            ids.add(b64url_decode(str(d["id"])))
    return ids


def client_data_json(
    client_type: str, challenge: str, origin: str, overrides: Mapping[str, Any]
) -> bytes:
    """Compact clientDataJSON (as fido2's ``CollectedClientData.create`` writes it)."""
    if "client_data_json" in overrides:
        return bytes(overrides["client_data_json"])
    raw_challenge = overrides.get("challenge", challenge)
    fields: dict[str, Any] = {
        "type": overrides.get("client_type", client_type),
        "challenge": b64url(raw_challenge) if isinstance(raw_challenge, bytes) else raw_challenge,
        "origin": overrides.get("origin_in_client_data", origin),
        "crossOrigin": overrides.get("cross_origin", False),
    }
    if "top_origin" in overrides:
        fields["topOrigin"] = overrides["top_origin"]
    fields.update(overrides.get("extra_client_data", {}))
    return json.dumps(fields, separators=(",", ":")).encode()


def authenticator_data(
    *,
    rp_id: str,
    flags: int,
    counter: int,
    credential_data: bytes,
    overrides: Mapping[str, Any],
) -> bytes:
    """Authenticator data via ``AuthenticatorData.create``, with the overrides applied.

    When ``flags_set``/``flags_clear`` make the flags disagree with the contents (AT without
    attested credential data, ED without extensions, or the reverse), fido2's builder refuses
    to parse its own output; then the same bytes are laid out directly (no CBOR involved).
    """
    extensions: Mapping[str, Any] | None = overrides.get("authenticator_extensions")
    if extensions is not None:
        flags |= Flag.ED
    flags = (flags | int(overrides.get("flags_set", 0))) & ~int(overrides.get("flags_clear", 0))
    rp_id_hash = sha256(str(overrides.get("rp_id", rp_id)).encode())
    counter = int(overrides.get("counter", counter))
    try:
        built: AuthenticatorData = AuthenticatorData.create(
            rp_id_hash, Flag(flags), counter, credential_data, extensions
        )
        return bytes(built)
    except (ValueError, LookupError, struct.error):
        tail = cbor.encode(extensions) if extensions is not None else b""
        return rp_id_hash + struct.pack(">BI", flags, counter) + credential_data + tail


def origin_host(origin: str) -> str:
    return urlsplit(origin).hostname or ""
