"""The ``android-key`` attestation statement format (WebAuthn L3 §8.4), absent from python-fido2.

It has the shape of fido2's own verifiers (an :class:`~fido2.attestation.Attestation` with a
``FORMAT``, raising fido2's ``InvalidData``/``InvalidSignature``), so
:mod:`authsvc.trust.statement` treats it exactly like the formats fido2 ships.

The KeyDescription extension is parsed with asn1crypto. Its AuthorizationLists are read as
raw ``[tag] EXPLICIT`` entries because every KeyMint version adds tags and only three are
needed here (purpose, allApplications, origin); a fixed schema would reject newer devices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, cast

from asn1crypto import core, parser
from cryptography import x509
from cryptography.exceptions import InvalidSignature as _BadSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.constant_time import bytes_eq
from fido2.attestation.base import (
    Attestation,
    AttestationResult,
    AttestationType,
    InvalidData,
    InvalidSignature,
    catch_builtins,
)
from fido2.cose import CoseKey
from fido2.webauthn import AuthenticatorData

from authsvc.trust.keys import cose_public_key, key_fits_algorithm, same_public_key

OID_KEY_DESCRIPTION = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
KM_TAG_PURPOSE, KM_TAG_ALL_APPLICATIONS, KM_TAG_ORIGIN = 1, 600, 702
KM_ORIGIN_GENERATED, KM_PURPOSE_SIGN = 0, 2
_CONTEXT_CLASS, _CONSTRUCTED = 2, 1

#: Raised by cryptography and asn1crypto for bad certificates and DER, beyond what fido2's
#: ``catch_builtins`` (ValueError, KeyError, IndexError) turns into InvalidData.
_UNUSABLE_INPUT_ERRORS = (
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    UnsupportedAlgorithm,
    TypeError,
    OverflowError,
    RecursionError,
)

_F = TypeVar("_F", bound=Callable[..., Any])
_catch_builtins = cast(Callable[[_F], _F], catch_builtins)  # fido2 leaves it untyped


class _IntegerSet(core.SetOf):  # type: ignore[misc]  # asn1crypto has no type hints
    _child_spec = core.Integer


class _AuthorizationList(core.Sequence):  # type: ignore[misc]
    """Only its raw contents are read, by :func:`_authorizations`."""


class _SecurityLevel(core.Enumerated):  # type: ignore[misc]
    _map: ClassVar[dict[int, str]] = {0: "software", 1: "trusted_environment", 2: "strongbox"}


class _KeyDescription(core.Sequence):  # type: ignore[misc]
    """KeyDescription; the same eight fields from attestation version 1 to KeyMint 4."""

    _fields: ClassVar[list[tuple[str, type]]] = [
        ("attestationVersion", core.Integer),
        ("attestationSecurityLevel", _SecurityLevel),
        ("keymasterVersion", core.Integer),
        ("keymasterSecurityLevel", _SecurityLevel),
        ("attestationChallenge", core.OctetString),
        ("uniqueId", core.OctetString),
        ("softwareEnforced", _AuthorizationList),
        ("teeEnforced", _AuthorizationList),
    ]


@dataclass(frozen=True)
class Authorizations:
    """The three AuthorizationList entries WebAuthn checks; None where the tag is absent."""

    purposes: frozenset[int] | None
    origin: int | None
    all_applications: bool


@dataclass(frozen=True)
class KeyDescription:
    attestation_challenge: bytes
    software_enforced: Authorizations
    tee_enforced: Authorizations


def parse_key_description(der: bytes) -> KeyDescription:
    """Parse the extension value; ValueError if it is not a well-formed KeyDescription."""
    description = _KeyDescription.load(der, strict=True)
    return KeyDescription(
        attestation_challenge=description["attestationChallenge"].native,
        software_enforced=_authorizations(description["softwareEnforced"]),
        tee_enforced=_authorizations(description["teeEnforced"]),
    )


def _authorizations(authorization_list: _AuthorizationList) -> Authorizations:
    by_tag: dict[int, bytes] = {}
    rest: bytes = authorization_list.contents
    while rest:
        size = parser.peek(rest)
        class_, method, tag, _header, contents, _trailer = parser.parse(rest[:size], strict=True)
        if class_ != _CONTEXT_CLASS or method != _CONSTRUCTED or tag in by_tag:
            raise ValueError("AuthorizationList entry is not a unique [tag] EXPLICIT value")
        by_tag[tag] = contents
        rest = rest[size:]
    purpose, origin = by_tag.get(KM_TAG_PURPOSE), by_tag.get(KM_TAG_ORIGIN)
    purposes = None if purpose is None else _IntegerSet.load(purpose, strict=True).native
    return Authorizations(
        purposes=None if purposes is None else frozenset(purposes),
        origin=None if origin is None else core.Integer.load(origin, strict=True).native,
        all_applications=KM_TAG_ALL_APPLICATIONS in by_tag,
    )


class AndroidKeyAttestation(Attestation):
    """Verifies ``android-key`` statements; trust in the chain is decided by the caller.

    ``tee_only`` (the default) reads origin and purpose from ``teeEnforced`` alone, the
    spec's choice for relying parties that accept only keys held in a trusted execution
    environment; with False, the union of ``teeEnforced`` and ``softwareEnforced`` is read.
    """

    FORMAT = "android-key"

    def __init__(self, *, tee_only: bool = True) -> None:
        self.tee_only = tee_only

    @_catch_builtins
    def verify(
        self,
        statement: Mapping[str, Any],
        auth_data: AuthenticatorData,
        client_data_hash: bytes,
    ) -> AttestationResult:
        try:
            return self._verify(statement, auth_data, client_data_hash)
        except _UNUSABLE_INPUT_ERRORS as exc:
            raise InvalidData("android-key statement cannot be read") from exc

    def _verify(
        self,
        statement: Mapping[str, Any],
        auth_data: AuthenticatorData,
        client_data_hash: bytes,
    ) -> AttestationResult:
        if not isinstance(statement, Mapping):
            raise InvalidData("android-key statement is not a map")
        alg, sig, x5c = statement["alg"], statement["sig"], statement["x5c"]
        if not (isinstance(alg, int) and isinstance(sig, bytes) and isinstance(x5c, list)):
            raise InvalidData("android-key statement needs alg, sig and x5c")
        if not x5c or not all(isinstance(der, bytes) for der in x5c):
            raise InvalidData("x5c must be a non-empty list of certificates")
        credential = auth_data.credential_data
        if credential is None:
            raise InvalidData("no attested credential data")
        leaf = x509.load_der_x509_certificate(x5c[0])
        leaf_key = leaf.public_key()
        if alg not in CoseKey.supported_algorithms() or not key_fits_algorithm(leaf_key, alg):
            raise InvalidData("alg is not an algorithm of the certificate's key")
        try:
            signer = CoseKey.for_alg(alg).from_cryptography_key(leaf_key)
            signer.verify(bytes(auth_data) + client_data_hash, sig)
        except _BadSignature as exc:
            raise InvalidSignature("android-key signature does not verify") from exc
        if not same_public_key(leaf_key, cose_public_key(credential.public_key)):
            raise InvalidData("certificate key is not the credential public key")

        try:
            extension = leaf.extensions.get_extension_for_oid(OID_KEY_DESCRIPTION).value
        except x509.ExtensionNotFound as exc:
            raise InvalidData("certificate has no key description extension") from exc
        if not isinstance(extension, x509.UnrecognizedExtension):
            raise InvalidData("key description extension is not raw DER")
        description = parse_key_description(extension.value)
        if not bytes_eq(description.attestation_challenge, client_data_hash):
            raise InvalidData("attestationChallenge is not the client data hash")
        lists = [description.tee_enforced, description.software_enforced]
        if any(auth.all_applications for auth in lists):
            raise InvalidData("key is usable by all applications, not scoped to the RP ID")
        if self.tee_only:
            lists = [description.tee_enforced]
        origins = {auth.origin for auth in lists if auth.origin is not None}
        purposes = set().union(*(auth.purposes for auth in lists if auth.purposes is not None))
        if origins != {KM_ORIGIN_GENERATED}:
            raise InvalidData("key was not generated in the keystore")
        if purposes != {KM_PURPOSE_SIGN}:
            raise InvalidData("key purpose is not signing only")
        return AttestationResult(AttestationType.BASIC, list(x5c))
