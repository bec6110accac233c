"""The software authenticator and the client (browser) logic around it."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import CoseKey
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData

from tests.softauthn.ca import TestCA
from tests.softauthn.credential import SoftCredential
from tests.softauthn.errors import ExcludedCredentialError, NoCredentialError, NotSupportedError
from tests.softauthn.keys import Alg, corrupt_signature, generate_key, sha256
from tests.softauthn.statement import Attestation, attestation_statement
from tests.softauthn.wire import (
    CREATE_OVERRIDES,
    GET_OVERRIDES,
    Flag,
    authenticator_data,
    b64url,
    b64url_decode,
    check_overrides,
    client_data_json,
    descriptor_ids,
    origin_host,
    unwrap_options,
)

#: The AAGUID a :class:`SoftAuthenticator` reports unless told otherwise (ASCII, 16 bytes).
DEFAULT_AAGUID = b"SoftAuthn-Test01"


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
        check_overrides(overrides, CREATE_OVERRIDES, "create")
        options = unwrap_options(options)
        rp = options.get("rp") or {}
        rp_id = str(rp.get("id") or origin_host(origin))

        excluded = descriptor_ids(options.get("excludeCredentials"))
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
            private_key=generate_key(alg),
            user_handle=user_handle,
            sign_count=self.start_counter,
            backup_eligible=self.backup_eligible,
            backed_up=self.backed_up,
            rp_id=rp_id,
        )
        self.credentials.append(cred)

        client_data = client_data_json(
            "webauthn.create", str(options["challenge"]), origin, overrides
        )
        client_data_hash = sha256(client_data)
        u2f = attestation is Attestation.FIDO_U2F
        aaguid = bytes(16) if u2f else self.aaguid
        cose_key = cred.cose_key
        if "alg_id" in overrides:
            claimed = {**cose_key, 3: int(overrides["alg_id"])}
            cose_key = CoseKey.for_alg(claimed[3])(claimed)
        credential_data = AttestedCredentialData.create(
            bytes(overrides.get("aaguid", aaguid)), cred.credential_id, cose_key
        )
        auth_data = authenticator_data(
            rp_id=rp_id,
            flags=self._base_flags(cred) | Flag.AT,
            counter=cred.sign_count,
            credential_data=bytes(credential_data),
            overrides=overrides,
        )

        statement = attestation_statement(
            attestation,
            cred=cred,
            auth_data=auth_data,
            client_data_hash=client_data_hash,
            credential_data=credential_data,
            overrides=overrides,
            batch_leaf=lambda u2f: self.attestation_leaf(u2f=u2f),
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
        check_overrides(overrides, GET_OVERRIDES, "get")
        options = unwrap_options(options)
        rp_id = str(options.get("rpId") or origin_host(origin))
        cred = credential if credential is not None else self._find(options, rp_id)

        if "counter" in overrides:
            counter = int(overrides["counter"])
        else:
            cred.sign_count += self.counter_step
            counter = cred.sign_count

        client_data = client_data_json("webauthn.get", str(options["challenge"]), origin, overrides)
        auth_data = authenticator_data(
            rp_id=rp_id,
            flags=self._base_flags(cred),
            counter=counter,
            credential_data=b"",
            overrides=overrides,
        )
        signature = cred.sign(auth_data + sha256(client_data))
        if overrides.get("corrupt_signature", False):
            signature = corrupt_signature(signature)
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
        allowed = descriptor_ids(options.get("allowCredentials"))
        for cred in self.credentials:
            if cred.rp_id != rp_id:
                continue
            if (cred.credential_id in allowed) if allowed else cred.discoverable:
                return cred
        what = "listed in allowCredentials" if allowed else "discoverable"
        raise NoCredentialError(f"no credential {what} for {rp_id}")
