"""Verifying an authentication assertion: WebAuthn Level 3 §7.2, every step, in order, here.

:func:`verify_authentication` reads top to bottom as the Recommendation does
(https://www.w3.org/TR/webauthn-3/#sctn-verifying-assertion); each check carries the number
of the step it performs. Steps 1-4 are the client's and the parsing's: by the time this
runs, :func:`~authsvc.ceremony.responses.assertion_response` has checked the JSON's shape and
decoded every field (steps 7-9 included), refusing malformed input before any state was
touched.

Plain Python: no Flask, no database. The caller consumed the pending ceremony and looked the
credential record up by the response's credential id; this function says whether the
assertion proves possession of it for the user the options were for, and returns what
changes in storage (step 24 is the caller's write). A sign-in costs one signature
verification: the key comes from a per-process cache (:mod:`authsvc.ceremony.keys`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cryptography.hazmat.primitives.constant_time import bytes_eq

from authsvc.ceremony.expectation import Expectation
from authsvc.ceremony.keys import verifier_for
from authsvc.ceremony.parsing import Flags
from authsvc.ceremony.responses import AssertionResponse
from authsvc.errors import (
    BackupStateInvalid,
    ChallengeMismatch,
    CredentialUnknown,
    RpIdMismatch,
    SignCountRegressed,
    TypeMismatch,
    UserHandleMismatch,
    UserNotPresent,
    UserNotVerified,
)

K = TypeVar("K")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredCredential(Generic[K]):
    """The credential record (§7.2 step 6), as far as an assertion is checked against it.

    ``kept`` is whatever the caller keeps with the record (its own row, say): never read
    here, handed back in the result, so the caller has it once the assertion verified.
    """

    credential_id: bytes
    user_id: int
    user_handle: bytes | None
    public_key: bytes
    sign_count: int
    backup_eligible: bool
    #: False for a credential an admin disabled or a sign-count policy locked
    active: bool
    kept: K


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedAssertion(Generic[K]):
    """What an assertion proved, and what the caller stores from it (§7.2 step 24)."""

    credential_id: bytes
    sign_count: int
    flags: Flags
    #: the counter did not grow, and the caller chose to accept that (a policy may flag or
    #: lock the credential instead of refusing the sign-in outright)
    counter_regressed: bool
    kept: K

    @property
    def backed_up(self) -> bool:
        return self.flags.bs

    @property
    def user_verified(self) -> bool:
        return self.flags.uv


def _no_account_rules(_credential: StoredCredential[Any]) -> None:
    """The default of ``on_identified``: a caller with no account of its own to check."""


def verify_authentication(
    *,
    response: AssertionResponse,
    expected: Expectation,
    allow_credentials: Collection[bytes],
    user_id: int | None,
    credential: StoredCredential[K] | None,
    on_identified: Callable[[StoredCredential[K]], None] = _no_account_rules,
    accept_regressed_counter: bool = False,
) -> VerifiedAssertion[K]:
    """Verify an assertion; raise the AuthError of the first step it fails.

    ``allow_credentials`` and ``user_id`` are what the options were issued with: the
    credential ids they listed, and the user identified before the ceremony (by the username
    they were asked for), both empty for a discoverable sign-in. Options for a username with
    no active passkey list imaginary credentials and name no user, so no credential record,
    anyone's, passes step 6 against them. ``credential`` is the record stored under the
    response's credential id, or None.

    ``on_identified`` runs once step 6 has found the credential record, before anything else
    is checked: where the caller applies its own account rules (a disabled user) and starts
    naming the user in its audit record; it raises to refuse. With
    ``accept_regressed_counter`` a counter that did not grow is reported in the result
    (``counter_regressed``) instead of raised, for a policy that flags or locks instead.
    """
    # 5. If options.allowCredentials is not empty, credential.id must be one of them.
    if allow_credentials and response.credential_id not in allow_credentials:
        raise CredentialUnknown

    # 6. Identify the user being authenticated and the credential record: one the user
    #    identified before the ceremony owns, or for a discoverable sign-in the one whose
    #    user response.userHandle names. A disabled or locked credential is no record to
    #    sign in with: it is refused with an unknown one's code.
    if credential is None:
        raise CredentialUnknown
    if (user_id is not None or allow_credentials) and credential.user_id != user_id:
        raise CredentialUnknown
    if not credential.active:
        raise CredentialUnknown("this credential is disabled")
    on_identified(credential)
    if response.user_handle is None:
        if user_id is None:
            raise UserHandleMismatch("a discoverable sign-in must return the user handle")
    elif credential.user_handle is not None and not bytes_eq(
        response.user_handle, credential.user_handle
    ):
        raise UserHandleMismatch

    # 7-9. cData, authData and sig, and C decoded from cData: done by assertion_response.
    client_data = response.client_data
    auth_data = response.authenticator_data

    # 10. C.type is "webauthn.get".
    if client_data.type != "webauthn.get":
        raise TypeMismatch('client data type is not "webauthn.get"')

    # 11. C.challenge is the base64url encoding of options.challenge.
    if not bytes_eq(client_data.challenge.rstrip("=").encode(), expected.challenge_text):
        raise ChallengeMismatch

    # 12. C.origin is one of the RP's origins, exactly; 13-14. C.crossOrigin or C.topOrigin
    #     only when that top-level origin may embed the RP (TOP_ORIGINS).
    expected.origins.check(client_data)

    # 15. authData's rpIdHash is the SHA-256 of the RP ID.
    if not bytes_eq(auth_data.rp_id_hash, expected.rp_id_hash):
        raise RpIdMismatch
    flags = Flags.of(auth_data)

    # 16. The UP flag is set.
    if not flags.up:
        raise UserNotPresent

    # 17. The UV flag is set if user verification is required.
    if expected.user_verification == "required" and not flags.uv:
        raise UserNotVerified

    # 18. If the BE flag is not set, the BS flag is not set.
    if flags.bs and not flags.be:
        raise BackupStateInvalid("backup state set on a credential that is not backup eligible")

    # 19. The backup state is used by RP policy: BE is as stored at registration (a
    #     credential cannot become, or stop being, backup eligible); BS is returned to be
    #     stored (step 24).
    if flags.be != credential.backup_eligible:
        raise BackupStateInvalid("backup eligibility changed since registration")

    # 20. hash is SHA-256 of cData (ClientData.hash); 21. sig is a valid signature over
    #     authData || hash with the credential record's public key.
    verifier_for(credential.public_key)(auth_data + client_data.hash, response.signature)

    # 22. When either counter is in use (nonzero), authData.signCount must be greater than
    #     the stored one; less or equal is a signal of a cloned authenticator.
    counter_in_use = credential.sign_count != 0 or auth_data.counter != 0
    regressed = counter_in_use and auth_data.counter <= credential.sign_count
    if regressed and not accept_regressed_counter:
        raise SignCountRegressed(
            f"counter {auth_data.counter} is not greater than the stored {credential.sign_count}"
        )

    # 23. The options ask for no extension whose outputs the RP processes: none are read.
    # 24. The caller updates the record (signCount, backupState) from the result, and
    # 25. continues the ceremony: the result is what it needs to.
    return VerifiedAssertion(
        credential_id=credential.credential_id,
        sign_count=auth_data.counter,
        flags=flags,
        counter_regressed=regressed,
        kept=credential.kept,
    )
