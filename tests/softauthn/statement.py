"""The attestation statement formats and the statements a registration carries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.webauthn import AttestedCredentialData

from tests.softauthn.ca import Leaf
from tests.softauthn.credential import SoftCredential
from tests.softauthn.keys import Alg, corrupt_signature, sign_message


class Attestation(StrEnum):
    """The attestation statement a :class:`SoftAuthenticator` produces."""

    NONE = "none"
    PACKED_SELF = "packed-self"
    PACKED_CA = "packed-ca"
    FIDO_U2F = "fido-u2f"


def attestation_statement(
    attestation: Attestation,
    *,
    cred: SoftCredential,
    auth_data: bytes,
    client_data_hash: bytes,
    credential_data: AttestedCredentialData,
    overrides: Mapping[str, Any],
    batch_leaf: Callable[[bool], Leaf],
) -> dict[str, Any]:
    """The ``attStmt`` of ``attestation`` over ``auth_data`` and ``client_data_hash``.

    ``batch_leaf(u2f)`` is the authenticator's own attestation key and certificate, asked for
    only when a CA-signed format is made without an ``attestation_leaf`` override.
    """
    corrupt = bool(overrides.get("attestation_signature_corrupt", False))
    if attestation is Attestation.NONE:
        if corrupt:
            raise TypeError("none attestation has no signature to corrupt")
        return {}
    if attestation is Attestation.PACKED_SELF:
        sig = cred.sign(auth_data + client_data_hash)
        return {"alg": int(cred.alg), "sig": corrupt_signature(sig) if corrupt else sig}
    u2f = attestation is Attestation.FIDO_U2F
    key, cert = overrides.get("attestation_leaf") or batch_leaf(u2f)
    der = cert.public_bytes(serialization.Encoding.DER)
    if u2f:
        public = cred.private_key.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        point = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        message = (
            b"\x00" + auth_data[:32] + client_data_hash + credential_data.credential_id + point
        )
        sig = sign_message(key, Alg.ES256, message)
        return {"sig": corrupt_signature(sig) if corrupt else sig, "x5c": [der]}
    sig = sign_message(key, Alg.ES256, auth_data + client_data_hash)
    return {"alg": int(Alg.ES256), "sig": corrupt_signature(sig) if corrupt else sig, "x5c": [der]}
