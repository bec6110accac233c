"""Every failure the service can report, one class per reason.

Each class carries the stable ``code`` of ``design/api.md`` (clients and the shared vectors
rely on it, so a code is never renamed), the HTTP ``status`` and a short ``title``. The HTTP
edge turns any :class:`AuthError` into RFC 9457 problem+json, and the audit record of a
failed ceremony stores the same ``code``. ``detail`` is written by us and never echoes raw
input, so an attacker cannot reflect bytes through an error message.

This module imports nothing of ours, so every layer may raise these.
"""

from __future__ import annotations

from typing import ClassVar


class AuthError(Exception):
    """Base of every failure the service reports to a caller."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.title
        super().__init__(self.detail)


class Malformed(AuthError):
    code = "malformed"
    status = 400
    title = "The request could not be parsed"


class PayloadTooLarge(AuthError):
    code = "payload_too_large"
    status = 413
    title = "The request body is over the size limit"


class ChallengeUnknown(AuthError):
    code = "challenge_unknown"
    status = 400
    title = "No ceremony is pending for this request"


class ChallengeExpired(AuthError):
    code = "challenge_expired"
    status = 400
    title = "The ceremony expired"


class ChallengeMismatch(AuthError):
    code = "challenge_mismatch"
    status = 400
    title = "The signed challenge is not the one issued"


class TypeMismatch(AuthError):
    code = "type_mismatch"
    status = 400
    title = "The client data type does not match the ceremony"


class OriginMismatch(AuthError):
    code = "origin_mismatch"
    status = 400
    title = "Origin not allowed for this relying party"


class RpIdMismatch(AuthError):
    code = "rp_id_mismatch"
    status = 400
    title = "The authenticator data is for another relying party"


class UserNotPresent(AuthError):
    code = "user_not_present"
    status = 400
    title = "The authenticator did not confirm user presence"


class UserNotVerified(AuthError):
    code = "user_not_verified"
    status = 400
    title = "User verification was required but not performed"


class BackupStateInvalid(AuthError):
    code = "backup_state_invalid"
    status = 400
    title = "The backup flags are inconsistent"


class UnsupportedAlgorithm(AuthError):
    code = "unsupported_algorithm"
    status = 400
    title = "The key algorithm is not accepted"


class AttestationInvalid(AuthError):
    code = "attestation_invalid"
    status = 400
    title = "The attestation statement does not verify"


class AttestationUntrusted(AuthError):
    code = "attestation_untrusted"
    status = 400
    title = "The attestation does not chain to a trusted root"


class CredentialExcluded(AuthError):
    code = "credential_excluded"
    status = 400
    title = "This credential is already registered"


class CredentialUnknown(AuthError):
    code = "credential_unknown"
    status = 400
    title = "No such credential for this user"


class UserHandleMismatch(AuthError):
    code = "user_handle_mismatch"
    status = 400
    title = "The user handle does not match the credential's user"


class SignatureInvalid(AuthError):
    code = "signature_invalid"
    status = 400
    title = "The assertion signature does not verify"


class SignCountRegressed(AuthError):
    code = "sign_count_regressed"
    status = 400
    title = "The signature counter did not increase"


class PolicyDenied(AuthError):
    code = "policy_denied"
    status = 403
    title = "The policy refuses this authenticator or ceremony"

    def __init__(
        self, detail: str | None = None, *, reasons: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(detail)
        #: machine-readable reasons ({"code", "message"}), returned in the problem body
        self.reasons = reasons or []


class Unauthenticated(AuthError):
    code = "unauthenticated"
    status = 401
    title = "Sign in first"


class StepUpRequired(AuthError):
    code = "step_up_required"
    status = 401
    title = "A fresh user-verified assertion is needed"


class Forbidden(AuthError):
    code = "forbidden"
    status = 403
    title = "Not allowed"


class NotFound(AuthError):
    code = "not_found"
    status = 404
    title = "No such resource"


class MethodNotAllowed(AuthError):
    code = "method_not_allowed"
    status = 405
    title = "This method is not allowed on this resource"


class Conflict(AuthError):
    code = "conflict"
    status = 409
    title = "The change conflicts with stored state"


class RateLimited(AuthError):
    code = "rate_limited"
    status = 429
    title = "Too many attempts"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(AuthError):
    code = "unavailable"
    status = 503
    title = "A backing store is unavailable; nothing was changed"


class TokenInvalid(AuthError):
    """A refresh token that is unknown, expired, revoked or already used (OAuth invalid_grant)."""

    code = "token_invalid"
    status = 400
    title = "The token is invalid, expired or revoked"


class DpopInvalid(AuthError):
    """A DPoP proof that is missing where required, malformed, mis-signed or not this request's."""

    code = "dpop_invalid"
    status = 400
    title = "The DPoP proof is invalid"
    #: RFC 9449 §7.1: what a protected resource's 401 challenges the client with
    www_authenticate: ClassVar[str | None] = None


class DpopInvalidAtResource(DpopInvalid):
    status = 401
    www_authenticate = 'DPoP error="invalid_dpop_proof", algs="ES256 ES384 EdDSA RS256 PS256"'


class DpopNonceRequired(AuthError):
    """The proof lacks the server's current nonce: retry with the ``DPoP-Nonce`` just sent."""

    code = "dpop_nonce_required"
    status = 400
    title = "The DPoP proof must carry the server's nonce"
    www_authenticate: ClassVar[str | None] = None


class DpopNonceRequiredAtResource(DpopNonceRequired):
    status = 401
    www_authenticate = 'DPoP error="use_dpop_nonce", algs="ES256 ES384 EdDSA RS256 PS256"'


def all_error_classes() -> list[type[AuthError]]:
    """Every concrete error class, in declaration order (the README table is checked against it)."""
    return [cls for cls in AuthError.__subclasses__() if cls.__module__ == __name__]
