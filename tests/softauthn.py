"""A software WebAuthn authenticator and client for the end-to-end tests.

:class:`SoftAuthenticator` plays both halves of the browser side of a ceremony: it takes the
PublicKeyCredentialCreationOptionsJSON / PublicKeyCredentialRequestOptionsJSON the service
hands out and returns the RegistrationResponseJSON / AuthenticationResponseJSON a browser would
post back. Every binary structure is built with python-fido2's builders (``cbor.encode``,
``CoseKey.from_cryptography_key``, ``AuthenticatorData.create``,
``AttestedCredentialData.create``, ``AttestationObject.create``) and every key and certificate
with ``cryptography``; nothing here hand-writes CBOR or COSE.

Negative tests pass keyword *overrides* to :meth:`SoftAuthenticator.create` and
:meth:`SoftAuthenticator.get`; each changes exactly one thing and everything else stays
validly signed (see the methods' docstrings for the list). An unknown override raises
``TypeError``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any, ClassVar
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID
from fido2 import cbor
from fido2.cose import CoseKey
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
)

__all__ = [
    "DEFAULT_AAGUID",
    "OID_FIDO_AAGUID",
    "Alg",
    "Attestation",
    "ExcludedCredentialError",
    "Flag",
    "NoCredentialError",
    "NotSupportedError",
    "PrivateKey",
    "SoftAuthenticator",
    "SoftAuthnError",
    "SoftCredential",
    "TestCA",
    "b64url",
    "b64url_decode",
]

#: The AAGUID a :class:`SoftAuthenticator` reports unless told otherwise (ASCII, 16 bytes).
DEFAULT_AAGUID = b"SoftAuthn-Test01"
#: id-fido-gen-ce-aaguid: the attestation certificate extension carrying the AAGUID.
OID_FIDO_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")

#: Authenticator data flags (UP, UV, BE, BS, AT, ED), for ``flags_set`` / ``flags_clear``.
Flag = AuthenticatorData.FLAG

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


class SoftAuthnError(Exception):
    """Base class of the errors a real client would report as a DOMException."""


class ExcludedCredentialError(SoftAuthnError):
    """The authenticator holds a credential listed in ``excludeCredentials`` (InvalidStateError)."""


class NoCredentialError(SoftAuthnError):
    """No held credential matches the request (the user would see "no passkey found")."""


class NotSupportedError(SoftAuthnError):
    """No algorithm in ``pubKeyCredParams`` is supported by this authenticator."""


class Alg(IntEnum):
    """COSE algorithm identifiers this authenticator can make keys for."""

    ES256 = -7
    EdDSA = -8
    RS256 = -257
    PS256 = -37


class Attestation(StrEnum):
    """The attestation statement a :class:`SoftAuthenticator` produces."""

    NONE = "none"
    PACKED_SELF = "packed-self"
    PACKED_CA = "packed-ca"
    FIDO_U2F = "fido-u2f"


def b64url(data: bytes) -> str:
    """base64url without padding, the encoding of binary fields in the WebAuthn JSON forms."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    """Decode base64url with or without padding."""
    body = value.rstrip("=")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _generate_key(alg: Alg) -> PrivateKey:
    if alg is Alg.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if alg is Alg.EdDSA:
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _sign(key: PrivateKey, alg: Alg, message: bytes) -> bytes:
    """Sign ``message`` the way COSE algorithm ``alg`` says (ECDSA signatures are DER)."""
    if alg is Alg.ES256 and isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(hashes.SHA256()))
    if alg is Alg.EdDSA and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    if alg is Alg.RS256 and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    if alg is Alg.PS256 and isinstance(key, rsa.RSAPrivateKey):
        # RFC 8230: the salt is as long as the hash.
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return key.sign(message, pss, hashes.SHA256())
    raise ValueError(f"a {type(key).__name__} cannot sign with {alg.name}")


def _corrupt(signature: bytes) -> bytes:
    """Flip one bit of the last byte: same length and DER shape, no longer valid."""
    return signature[:-1] + bytes([signature[-1] ^ 0x01])


def _cose_key(key: PrivateKey, alg: Alg) -> CoseKey:
    return CoseKey.for_alg(int(alg)).from_cryptography_key(key.public_key())


def _name(*, country: str, org: str, unit: str | None, common: str) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if unit is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common))
    return x509.Name(attrs)


@dataclass
class TestCA:
    """A test attestation CA: a self-signed EC P-256 root and a way to issue attestation leaves.

    Leaves are signed directly by the root (x5c is then just ``[leaf]``); the service is
    configured to trust :attr:`root_pem`.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class despite the name

    root_key: ec.EllipticCurvePrivateKey
    root_cert: x509.Certificate
    not_before: datetime
    not_after: datetime

    @classmethod
    def generate(
        cls, *, not_before: datetime | None = None, not_after: datetime | None = None
    ) -> TestCA:
        """Make a new root valid from ``not_before`` (default: a day ago) to ``not_after``
        (default: a year from now). Leaves it issues get the same validity by default."""
        now = datetime.now(UTC)
        start = not_before if not_before is not None else now - timedelta(days=1)
        end = not_after if not_after is not None else now + timedelta(days=365)
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(country="US", org="SoftAuthn Test", unit=None, common="SoftAuthn Test Root")
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(root_key=key, root_cert=cert, not_before=start, not_after=end)

    @property
    def root_pem(self) -> str:
        """PEM of the root certificate."""
        return self.root_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def root_der(self) -> bytes:
        """DER of the root certificate."""
        return self.root_cert.public_bytes(serialization.Encoding.DER)

    def issue_leaf(
        self,
        *,
        aaguid: bytes | None,
        u2f: bool = False,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """Issue an EC P-256 attestation certificate signed by the root.

        Packed (WebAuthn §8.2.1): X.509 v3; subject C, O, OU="Authenticator Attestation", CN;
        basicConstraints CA=false; and, when ``aaguid`` is given, the non-critical
        1.3.6.1.4.1.45724.1.1.4 extension whose value is an OCTET STRING wrapping the 16 bytes.
        With ``u2f=True`` the leaf is a plain EC P-256 certificate for fido-u2f attestation
        (no OU requirement, no AAGUID extension; ``aaguid`` must then be None).
        Validity defaults to the CA's.
        """
        if aaguid is not None and len(aaguid) != 16:
            raise ValueError("an AAGUID is 16 bytes")
        if u2f and aaguid is not None:
            raise ValueError("fido-u2f attestation certificates carry no AAGUID")
        key = ec.generate_private_key(ec.SECP256R1())
        if u2f:
            subject = _name(country="US", org="SoftAuthn Test", unit=None, common="SoftAuthn U2F")
        else:
            subject = _name(
                country="US",
                org="SoftAuthn Test",
                unit="Authenticator Attestation",
                common="SoftAuthn Packed Attestation",
            )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.root_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before if not_before is not None else self.not_before)
            .not_valid_after(not_after if not_after is not None else self.not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )
        if aaguid is not None:
            # DER OCTET STRING (tag 0x04, length 16) around the AAGUID: ASN.1, not CBOR.
            value = b"\x04\x10" + aaguid
            builder = builder.add_extension(
                x509.UnrecognizedExtension(OID_FIDO_AAGUID, value), critical=False
            )
        return key, builder.sign(self.root_key, hashes.SHA256())


@dataclass
class SoftCredential:
    """A credential held by a :class:`SoftAuthenticator`.

    ``user_handle`` is None for a non-discoverable (server-side) credential, which then can
    only be used through ``allowCredentials``.
    """

    credential_id: bytes
    alg: Alg
    private_key: PrivateKey
    user_handle: bytes | None
    sign_count: int
    backup_eligible: bool
    backed_up: bool
    rp_id: str

    @property
    def discoverable(self) -> bool:
        """Whether this is a discoverable credential (a passkey holding its user handle)."""
        return self.user_handle is not None

    @property
    def cose_key(self) -> CoseKey:
        """The credential public key as a fido2 COSE key."""
        return _cose_key(self.private_key, self.alg)

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` with this credential's key and algorithm."""
        return _sign(self.private_key, self.alg, message)


_CLIENT_DATA_OVERRIDES = frozenset(
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
_COMMON_OVERRIDES = _CLIENT_DATA_OVERRIDES | {
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
_CREATE_OVERRIDES = _COMMON_OVERRIDES | {
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
_GET_OVERRIDES = _COMMON_OVERRIDES | {"corrupt_signature"}


def _check_overrides(overrides: Mapping[str, Any], allowed: frozenset[str], method: str) -> None:
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise TypeError(f"{method}() got unknown override(s): {', '.join(unknown)}")


def _unwrap(options: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept the options themselves or a ``{"publicKey": {...}}`` wrapper."""
    inner = options.get("publicKey")
    if isinstance(inner, Mapping) and "challenge" in inner:
        return inner
    return options


def _descriptor_ids(descriptors: object) -> set[bytes]:
    if not isinstance(descriptors, Iterable):
        return set()
    ids: set[bytes] = set()
    for d in descriptors:
        if isinstance(d, Mapping) and d.get("type", "public-key") == "public-key":
            ids.add(b64url_decode(str(d["id"])))
    return ids


def _client_data_json(
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


def _authenticator_data(
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
    rp_id_hash = _sha256(str(overrides.get("rp_id", rp_id)).encode())
    counter = int(overrides.get("counter", counter))
    try:
        built: AuthenticatorData = AuthenticatorData.create(
            rp_id_hash, Flag(flags), counter, credential_data, extensions
        )
        return bytes(built)
    except (ValueError, LookupError, struct.error):
        tail = cbor.encode(extensions) if extensions is not None else b""
        return rp_id_hash + struct.pack(">BI", flags, counter) + credential_data + tail


def _origin_host(origin: str) -> str:
    return urlsplit(origin).hostname or ""


class SoftAuthenticator:
    """A software authenticator plus the client (browser) logic around it.

    :param aaguid: the AAGUID put in attested credential data (all zeros for fido-u2f).
    :param ca: the attestation CA; required for ``packed-ca`` and ``fido-u2f``. One leaf is
        issued lazily and reused for every registration, like a batch certificate.
    :param attestation: the attestation statement format to produce. It is sent whatever
        ``attestation`` conveyance the options ask for (this client never strips it).
    :param alg: the algorithm(s) this authenticator supports, in no particular order; from
        ``pubKeyCredParams`` the first one supported is used. fido-u2f supports ES256 only.
    :param uv: set the UV flag in every response.
    :param up: set the UP flag in every response.
    :param backup_eligible: new credentials are backup eligible (BE).
    :param backed_up: new credentials are backed up (BS).
    :param counter_step: how much each assertion advances a credential's counter.
    :param start_counter: the counter of a newly registered credential.
    :param attachment: ``authenticatorAttachment`` to report; default ``"cross-platform"``
        for fido-u2f, ``"platform"`` otherwise. Transports follow: ``["usb"]`` for
        cross-platform, ``["internal"]`` for platform.
    """

    def __init__(
        self,
        *,
        aaguid: bytes = DEFAULT_AAGUID,
        ca: TestCA | None = None,
        attestation: Attestation = Attestation.NONE,
        alg: Alg | Sequence[Alg] = Alg.ES256,
        uv: bool = True,
        up: bool = True,
        backup_eligible: bool = False,
        backed_up: bool = False,
        counter_step: int = 1,
        start_counter: int = 0,
        attachment: str | None = None,
    ) -> None:
        if len(aaguid) != 16:
            raise ValueError("an AAGUID is 16 bytes")
        algs = (Alg(alg),) if isinstance(alg, int) else tuple(Alg(a) for a in alg)
        if not algs:
            raise ValueError("an authenticator supports at least one algorithm")
        attestation = Attestation(attestation)
        if attestation in (Attestation.PACKED_CA, Attestation.FIDO_U2F) and ca is None:
            raise ValueError(f"{attestation} attestation needs a TestCA")
        if attestation is Attestation.FIDO_U2F and set(algs) != {Alg.ES256}:
            raise ValueError("fido-u2f attestation supports ES256 only")
        self.aaguid = aaguid
        self.ca = ca
        self.attestation = attestation
        self.algs: tuple[Alg, ...] = algs
        self.uv = uv
        self.up = up
        self.backup_eligible = backup_eligible
        self.backed_up = backed_up
        self.counter_step = counter_step
        self.start_counter = start_counter
        if attachment is None:
            attachment = "cross-platform" if attestation is Attestation.FIDO_U2F else "platform"
        self.attachment = attachment
        self.credentials: list[SoftCredential] = []
        self._leaves: dict[bool, tuple[ec.EllipticCurvePrivateKey, x509.Certificate]] = {}

    # ----------------------------------------------------------------------------- helpers

    def attestation_leaf(self, *, u2f: bool) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """The (cached) attestation key and certificate this authenticator uses."""
        if self.ca is None:
            raise ValueError("this authenticator has no TestCA")
        if u2f not in self._leaves:
            self._leaves[u2f] = self.ca.issue_leaf(aaguid=None if u2f else self.aaguid, u2f=u2f)
        return self._leaves[u2f]

    def _base_flags(self, cred: SoftCredential) -> int:
        flags = 0
        if self.up:
            flags |= Flag.UP
        if self.uv:
            flags |= Flag.UV
        if cred.backup_eligible:
            flags |= Flag.BE
        if cred.backed_up:
            flags |= Flag.BS
        return flags

    def _choose_alg(self, params: object, supported: Sequence[Alg]) -> Alg:
        offered: list[int] = []
        if isinstance(params, Iterable):
            offered = [
                p["alg"]
                for p in params
                if isinstance(p, Mapping)
                and p.get("type") == "public-key"
                and isinstance(p.get("alg"), int)
            ]
        for alg in offered:
            if alg in supported:
                return Alg(alg)
        raise NotSupportedError(f"none of {offered} is supported (have {list(supported)})")

    def _attachment_fields(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        attachment = overrides.get("attachment", self.attachment)
        return {} if attachment is None else {"authenticatorAttachment": attachment}

    # ---------------------------------------------------------------------------- ceremonies

    def create(
        self, options: Mapping[str, Any], *, origin: str, **overrides: Any
    ) -> dict[str, Any]:
        """Register a new credential: PublicKeyCredentialCreationOptionsJSON in,
        RegistrationResponseJSON out.

        The options are the service's JSON (camelCase, base64url without padding); extra keys
        (``status``, ``errorMessage``...) and a ``{"publicKey": ...}`` wrapper are tolerated.
        The first algorithm in ``pubKeyCredParams`` this authenticator supports is used
        (else :class:`NotSupportedError`). The rp id hash is sha256 of ``rp.id`` (the origin's
        host if absent). If a held credential for this rp id is in ``excludeCredentials``,
        :class:`ExcludedCredentialError` is raised, as a real authenticator refuses.
        The credential is discoverable (keeps ``user.id``) when ``authenticatorSelection``
        has ``residentKey`` "required"/"preferred" or ``requireResidentKey`` true.
        The new credential is appended to :attr:`credentials` (also when an override makes
        the response invalid), and its ``sign_count`` is ``start_counter``.

        Overrides (each changes only what it names; everything else stays validly signed):

        - ``client_type``: clientData ``type`` (e.g. "webauthn.get").
        - ``challenge``: clientData ``challenge``; bytes are base64url-encoded, a str is used
          verbatim.
        - ``origin_in_client_data``: clientData ``origin``.
        - ``cross_origin``: clientData ``crossOrigin`` (any JSON value).
        - ``top_origin``: adds clientData ``topOrigin``.
        - ``extra_client_data``: a dict merged last into clientData (may replace keys).
        - ``client_data_json``: the exact clientDataJSON bytes (all other client data
          overrides are then ignored); the attestation still signs over its hash.
        - ``rp_id``: hash this rp id into authenticator data instead (the stored credential
          keeps the options' rp id).
        - ``flags_set`` / ``flags_clear``: :data:`Flag` bits to set / clear last.
        - ``counter``: the signature counter in authenticator data (``sign_count`` is
          still ``start_counter``).
        - ``credential_id``: the new credential's id (default: 32 random bytes).
        - ``user_handle``: the user handle the credential stores (None: non-discoverable).
        - ``discoverable``: force (True) or refuse (False) a discoverable credential.
        - ``authenticator_extensions``: a dict CBOR-encoded as authenticator extension
          outputs (sets ED).
        - ``client_extension_results``: the ``clientExtensionResults`` object (default {}).
        - ``attachment``: ``authenticatorAttachment`` (None omits the key).
        - ``transports``: ``response.transports`` list.
        - ``alg``: force this :class:`Alg`, offered or not.
        - ``alg_id``: the COSE ``alg`` (label 3) claimed in the credential public key, any
          int (e.g. -35, ES384); the key material and all signatures stay the real alg's.
        - ``aaguid``: the AAGUID in attested credential data (the attestation certificate
          keeps the authenticator's).
        - ``attestation``: another :class:`Attestation` format for this call only.
        - ``attestation_leaf``: ``(key, certificate)`` to attest with instead of the
          authenticator's own leaf (e.g. from another CA, expired, wrong AAGUID).
        - ``attestation_signature_corrupt``: flip a bit of the attestation ``sig``.
        - ``ignore_exclude``: create even if ``excludeCredentials`` names a held credential.
        """
        _check_overrides(overrides, _CREATE_OVERRIDES, "create")
        options = _unwrap(options)
        rp = options.get("rp") or {}
        rp_id = str(rp.get("id") or _origin_host(origin))

        excluded = _descriptor_ids(options.get("excludeCredentials"))
        if not overrides.get("ignore_exclude", False):
            for held in self.credentials:
                if held.rp_id == rp_id and held.credential_id in excluded:
                    raise ExcludedCredentialError(
                        f"already holds credential {b64url(held.credential_id)} for {rp_id}"
                    )

        attestation = Attestation(overrides.get("attestation", self.attestation))
        if "alg" in overrides:
            alg = Alg(overrides["alg"])
        else:
            supported = (Alg.ES256,) if attestation is Attestation.FIDO_U2F else self.algs
            alg = self._choose_alg(options.get("pubKeyCredParams"), supported)
        if attestation is Attestation.FIDO_U2F and alg is not Alg.ES256:
            raise ValueError("fido-u2f attestation needs an ES256 credential")

        selection = options.get("authenticatorSelection") or {}
        discoverable = bool(
            overrides.get(
                "discoverable",
                selection.get("residentKey") in ("required", "preferred")
                or selection.get("requireResidentKey") is True,
            )
        )
        user = options.get("user") or {}
        if "user_handle" in overrides:
            user_handle: bytes | None = overrides["user_handle"]
        else:
            user_handle = b64url_decode(str(user["id"])) if discoverable else None

        cred = SoftCredential(
            credential_id=bytes(overrides.get("credential_id", os.urandom(32))),
            alg=alg,
            private_key=_generate_key(alg),
            user_handle=user_handle,
            sign_count=self.start_counter,
            backup_eligible=self.backup_eligible,
            backed_up=self.backed_up,
            rp_id=rp_id,
        )
        self.credentials.append(cred)

        client_data = _client_data_json(
            "webauthn.create", str(options["challenge"]), origin, overrides
        )
        client_data_hash = _sha256(client_data)
        u2f = attestation is Attestation.FIDO_U2F
        aaguid = bytes(16) if u2f else self.aaguid
        cose_key = cred.cose_key
        if "alg_id" in overrides:
            claimed = {**cose_key, 3: int(overrides["alg_id"])}
            cose_key = CoseKey.for_alg(claimed[3])(claimed)
        credential_data = AttestedCredentialData.create(
            bytes(overrides.get("aaguid", aaguid)), cred.credential_id, cose_key
        )
        auth_data = _authenticator_data(
            rp_id=rp_id,
            flags=self._base_flags(cred) | Flag.AT,
            counter=cred.sign_count,
            credential_data=bytes(credential_data),
            overrides=overrides,
        )

        statement = self._statement(
            attestation,
            cred=cred,
            auth_data=auth_data,
            client_data_hash=client_data_hash,
            credential_data=credential_data,
            overrides=overrides,
        )
        packed = attestation in (Attestation.PACKED_SELF, Attestation.PACKED_CA)
        fmt = "packed" if packed else str(attestation)
        try:
            attestation_object = bytes(
                AttestationObject.create(fmt, AuthenticatorData(auth_data), statement)
            )
        except (ValueError, LookupError, struct.error):  # an override broke the auth data
            attestation_object = cbor.encode(
                {"fmt": fmt, "authData": auth_data, "attStmt": statement}
            )

        transports = overrides.get(
            "transports",
            ["usb"]
            if overrides.get("attachment", self.attachment) == "cross-platform"
            else ["internal"],
        )
        return {
            "id": b64url(cred.credential_id),
            "rawId": b64url(cred.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": list(transports),
            },
            "clientExtensionResults": dict(overrides.get("client_extension_results", {})),
            **self._attachment_fields(overrides),
        }

    def _statement(
        self,
        attestation: Attestation,
        *,
        cred: SoftCredential,
        auth_data: bytes,
        client_data_hash: bytes,
        credential_data: AttestedCredentialData,
        overrides: Mapping[str, Any],
    ) -> dict[str, Any]:
        corrupt = bool(overrides.get("attestation_signature_corrupt", False))
        if attestation is Attestation.NONE:
            if corrupt:
                raise TypeError("none attestation has no signature to corrupt")
            return {}
        if attestation is Attestation.PACKED_SELF:
            sig = cred.sign(auth_data + client_data_hash)
            return {"alg": int(cred.alg), "sig": _corrupt(sig) if corrupt else sig}
        u2f = attestation is Attestation.FIDO_U2F
        key, cert = overrides.get("attestation_leaf") or self.attestation_leaf(u2f=u2f)
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
            sig = _sign(key, Alg.ES256, message)
            return {"sig": _corrupt(sig) if corrupt else sig, "x5c": [der]}
        sig = _sign(key, Alg.ES256, auth_data + client_data_hash)
        return {"alg": int(Alg.ES256), "sig": _corrupt(sig) if corrupt else sig, "x5c": [der]}

    def get(
        self,
        options: Mapping[str, Any],
        *,
        origin: str,
        credential: SoftCredential | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Assert with a held credential: PublicKeyCredentialRequestOptionsJSON in,
        AuthenticationResponseJSON out.

        The credential is ``credential`` when given (used even if ``allowCredentials`` does
        not list it), else the first held credential for ``rpId`` (the origin's host if
        absent) listed in ``allowCredentials``, else, with an empty ``allowCredentials``, the
        first discoverable one for ``rpId``; none found: :class:`NoCredentialError`.
        The counter advances by ``counter_step`` and is stored (0 stays 0 with a step of 0).
        ``userHandle`` is the credential's user handle (null for a non-discoverable one).

        Overrides (each changes only what it names; everything else stays validly signed):
        ``client_type``, ``challenge``, ``origin_in_client_data``, ``cross_origin``,
        ``top_origin``, ``extra_client_data``, ``client_data_json``, ``rp_id``,
        ``flags_set``, ``flags_clear``, ``authenticator_extensions``,
        ``client_extension_results``, ``attachment`` as for :meth:`create`, and:

        - ``counter``: the counter in authenticator data; the stored ``sign_count`` is then
          left as it was (not advanced).
        - ``credential_id``: the ``id``/``rawId`` reported (the signing key is unchanged).
        - ``user_handle``: the ``userHandle`` reported (bytes, or None for null).
        - ``corrupt_signature``: flip a bit of the assertion signature.
        """
        _check_overrides(overrides, _GET_OVERRIDES, "get")
        options = _unwrap(options)
        rp_id = str(options.get("rpId") or _origin_host(origin))
        cred = credential if credential is not None else self._find(options, rp_id)

        if "counter" in overrides:
            counter = int(overrides["counter"])
        else:
            cred.sign_count += self.counter_step
            counter = cred.sign_count

        client_data = _client_data_json(
            "webauthn.get", str(options["challenge"]), origin, overrides
        )
        auth_data = _authenticator_data(
            rp_id=rp_id,
            flags=self._base_flags(cred),
            counter=counter,
            credential_data=b"",
            overrides=overrides,
        )
        signature = cred.sign(auth_data + _sha256(client_data))
        if overrides.get("corrupt_signature", False):
            signature = _corrupt(signature)
        user_handle = overrides.get("user_handle", cred.user_handle)
        credential_id = bytes(overrides.get("credential_id", cred.credential_id))
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": None if user_handle is None else b64url(user_handle),
            },
            "clientExtensionResults": dict(overrides.get("client_extension_results", {})),
            **self._attachment_fields(overrides),
        }

    def _find(self, options: Mapping[str, Any], rp_id: str) -> SoftCredential:
        allowed = _descriptor_ids(options.get("allowCredentials"))
        for cred in self.credentials:
            if cred.rp_id != rp_id:
                continue
            if (cred.credential_id in allowed) if allowed else cred.discoverable:
                return cred
        what = "listed in allowCredentials" if allowed else "discoverable"
        raise NoCredentialError(f"no credential {what} for {rp_id}")
