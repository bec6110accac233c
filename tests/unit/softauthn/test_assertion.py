"""Which credential an assertion uses, and how its counter moves."""

from __future__ import annotations

import hashlib

import pytest

from tests.softauthn import (
    ExcludedCredentialError,
    NoCredentialError,
    SoftAuthenticator,
    b64url,
    b64url_decode,
)
from tests.unit.softauthn.helpers import (
    ORIGIN,
    RP_ID,
    USER_ID,
    cose_key_of,
    creation_options,
    registration,
    request_options,
    verify_assertion,
)

# ----------------------------------------------------------------- exclude / allow / discover


def test_exclude_credentials_refused_like_a_real_authenticator() -> None:
    auth = SoftAuthenticator()
    first = auth.create(creation_options(), origin=ORIGIN)
    first_id = b64url_decode(first["rawId"])
    with pytest.raises(ExcludedCredentialError):
        auth.create(creation_options(exclude=[first_id]), origin=ORIGIN)
    assert len(auth.credentials) == 1
    auth.create(creation_options(exclude=[b"someone else"]), origin=ORIGIN)
    auth.create(creation_options(exclude=[first_id]), origin=ORIGIN, ignore_exclude=True)
    assert len(auth.credentials) == 3


def test_discoverable_chosen_for_empty_allow_list() -> None:
    auth = SoftAuthenticator()
    other = dict(creation_options(), rp={"id": "other.example", "name": "Other"})
    auth.create(other, origin="https://other.example")
    auth.create(creation_options(resident_key="discouraged"), origin=ORIGIN)
    assert auth.credentials[1].user_handle is None
    with pytest.raises(NoCredentialError):
        auth.get(request_options(), origin=ORIGIN)

    reg = auth.create(creation_options(), origin=ORIGIN)
    asserted = auth.get(request_options(), origin=ORIGIN)
    assert asserted["rawId"] == reg["rawId"]
    assert asserted["response"]["userHandle"] == b64url(USER_ID)
    verify_assertion(asserted, cose_key_of(reg))


def test_non_discoverable_via_allow_list_has_null_user_handle() -> None:
    auth = SoftAuthenticator()
    reg = auth.create(creation_options(resident_key="discouraged"), origin=ORIGIN)
    cred_id = b64url_decode(reg["rawId"])
    asserted = auth.get(request_options(allow=[b"unknown", cred_id]), origin=ORIGIN)
    assert asserted["rawId"] == reg["rawId"]
    assert asserted["response"]["userHandle"] is None
    with pytest.raises(NoCredentialError):
        auth.get(request_options(allow=[cred_id], rp_id="other.example"), origin=ORIGIN)
    with pytest.raises(NoCredentialError):
        auth.get(request_options(allow=[b"unknown"]), origin=ORIGIN)


def test_explicit_credential_and_rp_id_from_origin() -> None:
    auth = SoftAuthenticator()
    auth.create(creation_options(), origin=ORIGIN)
    reg = auth.create(creation_options(), origin=ORIGIN)
    second = auth.credentials[1]
    asserted = auth.get(request_options(rp_id=None), origin=ORIGIN, credential=second)
    assert asserted["rawId"] == reg["rawId"]
    parsed = verify_assertion(asserted, cose_key_of(reg))
    assert parsed.rp_id_hash == hashlib.sha256(RP_ID.encode()).digest()


def test_wrapped_options_are_unwrapped() -> None:
    auth = SoftAuthenticator()
    reg = auth.create({"publicKey": creation_options()}, origin=ORIGIN)
    asserted = auth.get({"publicKey": request_options()}, origin=ORIGIN)
    verify_assertion(asserted, cose_key_of(reg))


# ------------------------------------------------------------------------------------ counter


def test_counter_start_and_step() -> None:
    auth = SoftAuthenticator(start_counter=10, counter_step=3)
    reg = auth.create(creation_options(), origin=ORIGIN)
    att, _ = registration(reg)
    assert att.auth_data.counter == 10
    key = cose_key_of(reg)
    counters = [
        verify_assertion(auth.get(request_options(), origin=ORIGIN), key).counter for _ in range(2)
    ]
    assert counters == [13, 16]


def test_counter_zero_stays_zero_with_step_zero() -> None:
    auth = SoftAuthenticator(counter_step=0)
    reg = auth.create(creation_options(), origin=ORIGIN)
    key = cose_key_of(reg)
    for _ in range(3):
        assert verify_assertion(auth.get(request_options(), origin=ORIGIN), key).counter == 0
    assert auth.credentials[0].sign_count == 0
