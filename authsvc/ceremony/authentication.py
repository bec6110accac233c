"""Authentication verification: WebAuthn Level 3 §7.2, one guard per step, in the spec's order.

Plain Python: no Flask, no database. The caller has already consumed the pending ceremony
and looked the credential up; this module checks the assertion against both and returns
what changes in storage (new sign count, backup state). A sign-in costs one signature
verification: the key comes from a per-process cache (:mod:`authsvc.ceremony.keys`).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.constant_time import bytes_eq

from authsvc.ceremony.checks import Expectation, Flags, check_auth_data_flags, check_client_data
from authsvc.ceremony.keys import verifier_for
from authsvc.ceremony.responses import AssertionResponse
from authsvc.errors import SignCountRegressed, UserHandleMismatch


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """What the relying party kept at registration, as far as an assertion needs it."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    user_handle: bytes | None
    backup_eligible: bool


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    credential_id: bytes
    sign_count: int
    flags: Flags
    #: the counter did not grow, and the caller chose to accept that (a policy may flag or
    #: lock the credential instead of refusing the sign-in outright)
    counter_regressed: bool = False

    @property
    def backed_up(self) -> bool:
        return self.flags.bs

    @property
    def user_verified(self) -> bool:
        return self.flags.uv


def check_user_handle(
    response: AssertionResponse, credential: StoredCredential, *, user_identified: bool
) -> None:
    """§7.2 step 6: the user handle, when given, must be the credential's user's handle.

    In a discoverable (username-less) sign-in the user handle is how the user is found, so
    it must be present.
    """
    if response.user_handle is None:
        if not user_identified:
            raise UserHandleMismatch("a discoverable sign-in must return the user handle")
        return
    if credential.user_handle is not None and not bytes_eq(
        response.user_handle, credential.user_handle
    ):
        raise UserHandleMismatch()


def check_sign_count(stored: int, received: int) -> None:
    """§7.2 step 22: when either counter is in use it must grow; both zero means no counter."""
    if (stored or received) and received <= stored:
        raise SignCountRegressed(f"counter {received} is not greater than the stored {stored}")


def verify_assertion(
    response: AssertionResponse,
    expected: Expectation,
    credential: StoredCredential,
    *,
    user_identified: bool,
    accept_regressed_counter: bool = False,
) -> VerifiedAssertion:
    """Verify an assertion for ``credential``; raise the AuthError of the first failing step.

    With ``accept_regressed_counter`` a counter that did not grow is reported in the result
    (``counter_regressed``) instead of raised, for a policy that flags or locks instead.
    """
    auth_data = response.authenticator_data  # parsed already: §7.2 steps 5 and 10
    check_user_handle(response, credential, user_identified=user_identified)  # step 6
    check_client_data(response.client_data, expected, "webauthn.get")  # steps 11-14
    flags = check_auth_data_flags(
        auth_data, expected, be_stored=credential.backup_eligible
    )  # steps 15-18
    verifier_for(credential.public_key)(  # steps 20-21
        auth_data + response.client_data.hash, response.signature
    )
    regressed = False
    try:
        check_sign_count(credential.sign_count, auth_data.counter)  # step 22
    except SignCountRegressed:
        if not accept_regressed_counter:
            raise
        regressed = True
    return VerifiedAssertion(
        credential_id=credential.credential_id,
        sign_count=auth_data.counter,
        flags=flags,
        counter_regressed=regressed,
    )
