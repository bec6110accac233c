"""The errors a real client would report as a DOMException."""

from __future__ import annotations


class SoftAuthnError(Exception):
    """Base class of the errors a real client would report as a DOMException."""


class ExcludedCredentialError(SoftAuthnError):
    """The authenticator holds a credential listed in ``excludeCredentials`` (InvalidStateError)."""


class NoCredentialError(SoftAuthnError):
    """No held credential matches the request (the user would see "no passkey found")."""


class NotSupportedError(SoftAuthnError):
    """No algorithm in ``pubKeyCredParams`` is supported by this authenticator."""
