"""The options a client passes to ``navigator.credentials.create()`` / ``.get()``.

They are python-fido2's typed dataclasses' JSON: ``dict()`` of a
``PublicKeyCredentialCreationOptions`` or ``PublicKeyCredentialRequestOptions`` is the WebAuthn
Level 3 JSON form (camelCase, base64url without padding) that
``PublicKeyCredential.parseCreationOptionsFromJSON``, iOS and Android Credential Manager use as
it is. Creation options are built as the dataclass; request options, on the sign-in hot path,
are written member for member as fido2 writes them (see :func:`request_options`). Where
fido2's form and the contract differ, per member:

- ``transports`` of a descriptor: fido2 2.2.1 turns a transport its enum does not know
  (``smart-card`` and ``cable`` are Level 3 values) into ``null``, so descriptors are built
  without them and the transports are written as stored.
- ``hints``: left out when there are none, as fido2 leaves out every member that is None;
  ``excludeCredentials`` / ``allowCredentials`` (possibly empty), ``attestation``,
  ``timeout`` and ``extensions`` (possibly ``{}``) are always given, as the conformance shape
  has them.
- the enum members fido2 stores are ``str`` subclasses: JSON writes them as their values.

fido2 resolves its type hints each time one of its objects is made, so the values every
registration shares (the RP entity, the algorithm list) are made once per process. Nothing
that depends on a user is cached: a cached descriptor would make a known account's options
faster to build than an unknown one's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fido2.webauthn import (
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialHint,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from authsvc.encoding import b64url_encode


@dataclass(frozen=True, slots=True)
class KnownCredential:
    """A registered credential as options list it (exclude / allow lists)."""

    credential_id: bytes
    transports: tuple[str, ...]


def _descriptors(credentials: Sequence[KnownCredential]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=c.credential_id)
        for c in credentials
    ]


def _with_transports(
    descriptors: Iterable[dict[str, Any]], credentials: Sequence[KnownCredential]
) -> None:
    for descriptor, credential in zip(descriptors, credentials, strict=True):
        if credential.transports:
            descriptor["transports"] = list(credential.transports)


def _hints(hints: Sequence[str]) -> list[PublicKeyCredentialHint] | None:
    return [PublicKeyCredentialHint(h) for h in hints] or None


@lru_cache(maxsize=16)
def _rp(rp_id: str, rp_name: str) -> PublicKeyCredentialRpEntity:
    return PublicKeyCredentialRpEntity(name=rp_name, id=rp_id)


@lru_cache(maxsize=64)
def _parameters(algorithms: tuple[int, ...]) -> tuple[PublicKeyCredentialParameters, ...]:
    return tuple(
        PublicKeyCredentialParameters(type=PublicKeyCredentialType.PUBLIC_KEY, alg=alg)
        for alg in algorithms
    )


def creation_options(
    *,
    rp_id: str,
    rp_name: str,
    user_handle: bytes,
    username: str,
    display_name: str,
    challenge: bytes,
    algorithms: Sequence[int],
    timeout_ms: int,
    exclude: Sequence[KnownCredential],
    resident_key: str,
    user_verification: str,
    attachment: str | None,
    attestation: str,
    extensions: Mapping[str, Any],
    hints: Sequence[str] = (),
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptionsJSON."""
    options = PublicKeyCredentialCreationOptions(
        rp=_rp(rp_id, rp_name),
        user=PublicKeyCredentialUserEntity(
            name=username, id=user_handle, display_name=display_name
        ),
        challenge=challenge,
        pub_key_cred_params=_parameters(tuple(algorithms)),
        timeout=timeout_ms,
        exclude_credentials=_descriptors(exclude),
        authenticator_selection=AuthenticatorSelectionCriteria(
            authenticator_attachment=AuthenticatorAttachment(attachment) if attachment else None,
            resident_key=ResidentKeyRequirement(resident_key),
            require_resident_key=resident_key == "required",
            user_verification=UserVerificationRequirement(user_verification),
        ),
        hints=_hints(hints),
        attestation=AttestationConveyancePreference(attestation),
        extensions=dict(extensions),
    )
    out = dict(options)
    _with_transports(out["excludeCredentials"], exclude)
    return out


def request_options(
    *,
    rp_id: str,
    challenge: bytes,
    timeout_ms: int,
    allow: Sequence[KnownCredential],
    user_verification: str,
    extensions: Mapping[str, Any],
    hints: Sequence[str] = (),
) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptionsJSON: ``dict()`` of fido2's dataclass, written directly.

    Sign-in options are on the hot path, and fido2 2.2.1's ``PublicKeyCredentialRequestOptions``
    with one descriptor costs about 0.6 ms to make and ``dict()`` (about seven ES256
    verifications; the dict below costs 5 µs): a whole sign-in would be a fifth slower. So
    the same members, in fido2's order and encoding, are written here, and
    ``tests/unit/ceremony/test_options.py`` holds this function's JSON equal to fido2's.
    """
    options: dict[str, Any] = {
        "challenge": b64url_encode(challenge),
        "timeout": timeout_ms,
        "rpId": rp_id,
        "allowCredentials": [
            {"type": "public-key", "id": b64url_encode(c.credential_id)} for c in allow
        ],
        "userVerification": user_verification,
    }
    _with_transports(options["allowCredentials"], allow)
    if hints:
        options["hints"] = list(hints)
    options["extensions"] = dict(extensions)
    return options
