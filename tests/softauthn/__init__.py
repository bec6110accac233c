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

from tests.softauthn.authenticator import DEFAULT_AAGUID, SoftAuthenticator
from tests.softauthn.ca import OID_FIDO_AAGUID, TestCA
from tests.softauthn.credential import SoftCredential
from tests.softauthn.errors import (
    ExcludedCredentialError,
    NoCredentialError,
    NotSupportedError,
    SoftAuthnError,
)
from tests.softauthn.keys import Alg, PrivateKey
from tests.softauthn.statement import Attestation
from tests.softauthn.wire import Flag, b64url, b64url_decode

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
