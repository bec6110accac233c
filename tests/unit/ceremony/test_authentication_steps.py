"""verify_authentication, step by step (WebAuthn L3 §7.2), on a software authenticator's output.

Each test breaks one step and asserts the refusal that step raises; steps 5 and 6 (the allow
list, the credential record and its user) moved here from the sign-in service, so they are
pinned here first: the service now only looks the record up and hands it in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fido2 import cbor

from authsvc.ceremony.authentication import StoredCredential, verify_authentication
from authsvc.ceremony.expectation import Expectation
from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.responses import assertion_response
from authsvc.errors import (
    AuthError,
    BackupStateInvalid,
    CredentialUnknown,
    SignCountRegressed,
    UserHandleMismatch,
)
from tests.softauthn import SoftAuthenticator
from tests.softauthn.credential import SoftCredential
from tests.unit.softauthn.helpers import (
    CHALLENGE,
    ORIGIN,
    RP_ID,
    creation_options,
    request_options,
)

USER = 7
OTHER_USER = 8
EXPECTED = Expectation(
    challenge=CHALLENGE,
    rp_id=RP_ID,
    origins=OriginPolicy.of([ORIGIN]),
    user_verification="required",
)


def _registered(**authenticator: Any) -> tuple[SoftAuthenticator, SoftCredential]:
    auth = SoftAuthenticator(**authenticator)
    auth.create(creation_options(), origin=ORIGIN)
    return auth, auth.credentials[0]


def _record(cred: SoftCredential, **changes: Any) -> StoredCredential[str]:
    record = StoredCredential(
        credential_id=cred.credential_id,
        user_id=USER,
        user_handle=cred.user_handle,
        public_key=cbor.encode(dict(cred.cose_key)),
        sign_count=cred.sign_count,
        backup_eligible=cred.backup_eligible,
        active=True,
        kept="the caller's row",
    )
    return replace(record, **changes)


def _verify(
    body: dict[str, Any],
    credential: StoredCredential[str] | None,
    *,
    allow: tuple[bytes, ...],
    user_id: int | None,
    seen: list[bytes] | None = None,
    accept_regressed_counter: bool = False,
) -> Any:
    def identified(record: StoredCredential[str]) -> None:
        if seen is not None:
            seen.append(record.credential_id)

    return verify_authentication(
        response=assertion_response(body),
        expected=EXPECTED,
        allow_credentials=allow,
        user_id=user_id,
        credential=credential,
        on_identified=identified,
        accept_regressed_counter=accept_regressed_counter,
    )


def _refused(error: type[AuthError], message: str | None = None, **kwargs: Any) -> None:
    with pytest.raises(error) as raised:
        _verify(**kwargs)
    assert type(raised.value) is error
    if message is not None:
        assert raised.value.detail == message


def test_a_valid_assertion_returns_what_the_caller_stores_and_its_record() -> None:
    auth, cred = _registered()
    stored = _record(cred)
    body = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN)
    seen: list[bytes] = []
    verified = _verify(body, stored, allow=(cred.credential_id,), user_id=USER, seen=seen)
    assert verified.sign_count == stored.sign_count + 1
    assert verified.kept == "the caller's row"
    assert verified.user_verified and not verified.counter_regressed
    assert seen == [cred.credential_id]


def test_step_5_refuses_the_right_users_credential_outside_allow_credentials() -> None:
    """The user's own, validly signed credential, but not one the options listed."""
    auth, cred = _registered()
    body = auth.get(request_options(), origin=ORIGIN, credential=cred)
    seen: list[bytes] = []
    _refused(
        CredentialUnknown,
        body=body,
        credential=_record(cred),
        allow=(b"\x01" * 16,),
        user_id=USER,
        seen=seen,
    )
    assert seen == []  # refused before the record counts as identified


def test_step_6_refuses_a_credential_with_no_record() -> None:
    auth, cred = _registered()
    body = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN)
    _refused(
        CredentialUnknown, body=body, credential=None, allow=(cred.credential_id,), user_id=USER
    )


def test_step_6_refuses_another_users_record() -> None:
    auth, cred = _registered()
    body = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN)
    seen: list[bytes] = []
    _refused(
        CredentialUnknown,
        body=body,
        credential=_record(cred, user_id=OTHER_USER),
        allow=(cred.credential_id,),
        user_id=USER,
        seen=seen,
    )
    assert seen == []


def test_step_6_lets_no_record_pass_options_that_name_no_user() -> None:
    """Options for a username without an active passkey list decoys and name no user: even
    a listed id of a real record, validly signed with its user handle, is refused."""
    auth, cred = _registered()
    body = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN)
    _refused(
        CredentialUnknown,
        body=body,
        credential=_record(cred),
        allow=(cred.credential_id,),
        user_id=None,
    )


def test_step_6_refuses_a_disabled_record_as_unknown() -> None:
    auth, cred = _registered()
    body = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN)
    _refused(
        CredentialUnknown,
        "this credential is disabled",
        body=body,
        credential=_record(cred, active=False),
        allow=(cred.credential_id,),
        user_id=USER,
    )


def test_step_6_runs_the_callers_account_rules_before_the_user_handle() -> None:
    auth, cred = _registered()
    body = auth.get(request_options(), origin=ORIGIN, user_handle=b"\x09" * 16)

    def account_rules(_record: StoredCredential[str]) -> None:
        raise CredentialUnknown("the caller's own refusal")

    with pytest.raises(CredentialUnknown, match="the caller's own refusal"):
        verify_authentication(
            response=assertion_response(body),
            expected=EXPECTED,
            allow_credentials=(),
            user_id=None,
            credential=_record(cred),
            on_identified=account_rules,
        )


def test_step_6_a_discoverable_sign_in_needs_the_user_handle() -> None:
    auth, cred = _registered()
    body = auth.get(request_options(), origin=ORIGIN, user_handle=None)
    _refused(
        UserHandleMismatch,
        "a discoverable sign-in must return the user handle",
        body=body,
        credential=_record(cred),
        allow=(),
        user_id=None,
    )
    # with the user identified before the ceremony, a missing handle is fine
    stored = _record(cred)
    body = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN, user_handle=None)
    assert _verify(body, stored, allow=(cred.credential_id,), user_id=USER)


def test_step_6_refuses_a_user_handle_of_someone_else() -> None:
    auth, cred = _registered()
    body = auth.get(request_options(), origin=ORIGIN, user_handle=b"\x09" * 16)
    _refused(UserHandleMismatch, body=body, credential=_record(cred), allow=(), user_id=None)


def test_step_19_refuses_a_backup_eligibility_that_changed() -> None:
    auth, cred = _registered()
    body = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN)
    _refused(
        BackupStateInvalid,
        "backup eligibility changed since registration",
        body=body,
        credential=_record(cred, backup_eligible=True),
        allow=(cred.credential_id,),
        user_id=USER,
    )


def test_step_22_a_counter_that_did_not_grow_is_refused_or_reported() -> None:
    auth, cred = _registered()
    stored = _record(cred, sign_count=5)
    body = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN, counter=5)
    _refused(
        SignCountRegressed,
        "counter 5 is not greater than the stored 5",
        body=body,
        credential=stored,
        allow=(cred.credential_id,),
        user_id=USER,
    )
    verified = _verify(
        body, stored, allow=(cred.credential_id,), user_id=USER, accept_regressed_counter=True
    )
    assert verified.counter_regressed and verified.sign_count == 5


def test_step_22_two_zero_counters_mean_no_counter() -> None:
    auth, cred = _registered(counter_step=0)
    body = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN)
    verified = _verify(body, _record(cred, sign_count=0), allow=(cred.credential_id,), user_id=USER)
    assert verified.sign_count == 0 and not verified.counter_regressed
