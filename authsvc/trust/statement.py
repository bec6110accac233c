"""Attestation statements: python-fido2's verifiers, the checks they miss, and trust.

This is the only module that knows fido2's attestation classes and errors. Each format is
verified by fido2 (or by our :class:`AndroidKeyAttestation`, which has the same shape),
after the checks fido2 leaves out; every failure caused by the statement's content
becomes :class:`AttestationInvalid`, and a chain that does not reach the anchors at ``at``
becomes :class:`AttestationUntrusted` when the caller requires trust.

The extra checks run before fido2's, so each of them is observable on its own and cheap
rejections happen before any signature is verified. They are:

- packed (full): ``alg`` must be an algorithm of the certificate's key type and curve;
  fido2 only fails by accident (assertion or invalid point) when they differ.
- tpm: ``ver`` must be "2.0", as the statement syntax requires; fido2 never reads it.
- fido-u2f: exactly one certificate, and both the credential key and the certificate key
  must be P-256; fido2 would sign-check the coordinates of any EC2 key.
- apple: the credential public key must be the certificate's key (§8.8 step 5).
- android-safetynet: ``timestampMs`` must be at most 60 s before ``at`` and not in the
  future beyond a small clock skew; fido2 accepts a replayed response of any age.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _BadSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from fido2.attestation.android import AndroidSafetynetAttestation
from fido2.attestation.apple import AppleAttestation
from fido2.attestation.base import (
    Attestation,
    AttestationType,
    InvalidAttestation,
    InvalidSignature,
    NoneAttestation,
)
from fido2.attestation.packed import PackedAttestation
from fido2.attestation.tpm import TpmAttestation
from fido2.attestation.u2f import FidoU2FAttestation
from fido2.utils import websafe_decode
from fido2.webauthn import AttestationObject, AttestedCredentialData

from authsvc.errors import AttestationInvalid, AttestationUntrusted
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.android_key import AndroidKeyAttestation
from authsvc.trust.chain import verify_chain
from authsvc.trust.keys import cose_public_key, is_p256, key_fits_algorithm, same_public_key

#: How far a SafetyNet response may lie in the future (clock skew) and in the past.
SAFETYNET_SKEW = timedelta(seconds=10)
SAFETYNET_MAX_AGE = timedelta(seconds=60)

_VERIFIERS: Mapping[str, Attestation] = MappingProxyType(
    {
        "packed": PackedAttestation(),
        "tpm": TpmAttestation(),
        "android-key": AndroidKeyAttestation(),
        "android-safetynet": AndroidSafetynetAttestation(),
        "apple": AppleAttestation(),
        "fido-u2f": FidoU2FAttestation(),
        "none": NoneAttestation(),
    }
)
_TYPE_NAMES: Mapping[AttestationType, str] = MappingProxyType(
    {
        AttestationType.NONE: "none",
        AttestationType.SELF: "self",
        AttestationType.BASIC: "basic",
        AttestationType.ATT_CA: "attca",
        AttestationType.ANON_CA: "anonca",
    }
)
#: What hostile statement content makes fido2, cryptography or asn1crypto raise. fido2's
#: ``catch_builtins`` covers only ValueError/KeyError/IndexError; it asserts on key types,
#: the TPM parser raises struct.error, and cryptography's X.509 errors are not ValueErrors.
_HOSTILE_INPUT_ERRORS: tuple[type[BaseException], ...] = (
    InvalidAttestation,
    _BadSignature,
    UnsupportedAlgorithm,
    x509.ExtensionNotFound,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    AssertionError,
    NotImplementedError,
    OverflowError,
    RecursionError,
    struct.error,
)


@dataclass(frozen=True)
class AttestationOutcome:
    """A verified statement: its type, its certificate chain and whether the chain is trusted."""

    fmt: str
    attestation_type: str  # "none" | "self" | "basic" | "attca" | "anonca"
    trust_path: tuple[bytes, ...]
    trusted: bool  # the chain verified to the anchors at the verification time

    @property
    def trust(self) -> str:
        """What the credential row records: "none", "self", "untrusted" or "trusted"."""
        if self.attestation_type in ("none", "self"):
            return self.attestation_type
        return "trusted" if self.trusted else "untrusted"


def verify_attestation(
    attestation: AttestationObject,
    client_data_hash: bytes,
    *,
    anchors: TrustAnchors,
    at: datetime,
    require_trusted: bool,
) -> AttestationOutcome:
    """Verify the statement (WebAuthn §7.1 steps 19-21) and its trust (steps 22-24) at ``at``.

    Raises AttestationInvalid for an unknown format or a statement that does not verify,
    and AttestationUntrusted when ``require_trusted`` and there is no chain to the anchors
    (self and none attestation have none). ``at`` is the clock for certificates and the
    SafetyNet timestamp, so tests can pin it; it must be timezone-aware (ValueError if not).
    """
    if at.tzinfo is None:
        raise ValueError("verification time must be timezone-aware")
    fmt = attestation.fmt
    verifier = _VERIFIERS.get(fmt) if isinstance(fmt, str) else None
    if verifier is None:
        raise AttestationInvalid("unsupported attestation statement format")
    credential = attestation.auth_data.credential_data
    if credential is None:
        raise AttestationInvalid("authenticator data has no attested credential")
    statement = attestation.att_stmt
    try:
        extra_check = _EXTRA_CHECKS.get(fmt)
        if extra_check is not None:
            extra_check(statement, credential, at)
        result = verifier.verify(statement, attestation.auth_data, client_data_hash)
        attestation_type = _TYPE_NAMES[result.attestation_type]
        trust_path = tuple(result.trust_path)
        if not all(isinstance(der, bytes) for der in trust_path):
            raise AttestationInvalid("the certificate chain holds a non-certificate")
    except (InvalidSignature, _BadSignature) as exc:
        raise AttestationInvalid("the attestation signature does not verify") from exc
    except _HOSTILE_INPUT_ERRORS as exc:
        raise AttestationInvalid("the attestation statement is invalid") from exc

    if attestation_type in ("none", "self"):
        if require_trusted:
            raise AttestationUntrusted(f"{attestation_type} attestation has no chain to trust")
        return AttestationOutcome(fmt, attestation_type, trust_path, trusted=False)
    trusted = verify_chain(trust_path, anchors, at)
    if require_trusted and not trusted:
        raise AttestationUntrusted("the attestation chain does not reach a trusted root")
    return AttestationOutcome(fmt, attestation_type, trust_path, trusted=trusted)


def _leaf_key(statement: Mapping[str, Any]) -> PublicKeyTypes:
    return x509.load_der_x509_certificate(statement["x5c"][0]).public_key()


def _check_packed(statement: Mapping[str, Any], _: AttestedCredentialData, __: datetime) -> None:
    if "x5c" not in statement:
        return  # self attestation: fido2 checks alg against the credential key
    alg = statement.get("alg")
    if not isinstance(statement["x5c"], list) or not statement["x5c"]:
        raise AttestationInvalid("packed x5c must hold at least one certificate")
    if not isinstance(alg, int) or not key_fits_algorithm(_leaf_key(statement), alg):
        raise AttestationInvalid("packed alg does not match the attestation certificate's key")


def _check_tpm(statement: Mapping[str, Any], _: AttestedCredentialData, __: datetime) -> None:
    if statement.get("ver") != "2.0":
        raise AttestationInvalid("tpm statement version must be 2.0")


def _check_fido_u2f(
    statement: Mapping[str, Any], credential: AttestedCredentialData, _: datetime
) -> None:
    x5c = statement.get("x5c")
    if not isinstance(x5c, list) or len(x5c) != 1:
        raise AttestationInvalid("fido-u2f x5c must hold exactly one certificate")
    cose = credential.public_key
    if cose.get(1) != 2 or cose.get(3) != -7 or not is_p256(cose_public_key(cose)):
        raise AttestationInvalid("fido-u2f credential key must be an ES256 key on P-256")
    if not is_p256(_leaf_key(statement)):
        raise AttestationInvalid("fido-u2f attestation certificate key must be on P-256")


def _check_apple(
    statement: Mapping[str, Any], credential: AttestedCredentialData, _: datetime
) -> None:
    if not same_public_key(_leaf_key(statement), cose_public_key(credential.public_key)):
        raise AttestationInvalid("apple certificate key is not the credential public key")


def _check_safetynet(statement: Mapping[str, Any], _: AttestedCredentialData, at: datetime) -> None:
    _header, payload, _signature = statement["response"].split(b".")
    timestamp_ms = json.loads(websafe_decode(payload))["timestampMs"]
    if not isinstance(timestamp_ms, int) or isinstance(timestamp_ms, bool):
        raise AttestationInvalid("SafetyNet timestampMs is not an integer")
    at_ms = round(at.timestamp() * 1000)
    if timestamp_ms > at_ms + SAFETYNET_SKEW // timedelta(milliseconds=1):
        raise AttestationInvalid("SafetyNet response is from the future")
    if timestamp_ms < at_ms - SAFETYNET_MAX_AGE // timedelta(milliseconds=1):
        raise AttestationInvalid("SafetyNet response is too old")


_EXTRA_CHECKS: Mapping[
    str, Callable[[Mapping[str, Any], AttestedCredentialData, datetime], None]
] = MappingProxyType(
    {
        "packed": _check_packed,
        "tpm": _check_tpm,
        "fido-u2f": _check_fido_u2f,
        "apple": _check_apple,
        "android-safetynet": _check_safetynet,
    }
)
