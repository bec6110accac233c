"""Each assertion override changes exactly what it names.

The client data overrides are checked on registration too, and an unknown or misplaced
override is refused.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from fido2.webauthn import AttestationObject, AuthenticatorData

from tests.softauthn import (
    Alg,
    Attestation,
    Flag,
    SoftAuthenticator,
    SoftCredential,
    b64url,
)
from tests.unit.softauthn.helpers import (
    ALL_ALGS,
    CHALLENGE,
    ORIGIN,
    client_data_dict,
    cose_key_of,
    creation_options,
    field,
    request_options,
    verify_assertion,
    verify_statement,
)


@pytest.fixture
def steady() -> tuple[SoftAuthenticator, SoftCredential, dict[str, Any]]:
    """An authenticator whose assertions are byte-identical apart from the signature."""
    auth = SoftAuthenticator(counter_step=0, start_counter=7)
    reg = auth.create(creation_options(), origin=ORIGIN)
    return auth, auth.credentials[0], reg


CLIENT_DATA_OVERRIDES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"client_type": "webauthn.create"}, {"type": "webauthn.create"}),
    ({"challenge": b"\x02" * 32}, {"challenge": b64url(b"\x02" * 32)}),
    ({"challenge": "not-the-challenge"}, {"challenge": "not-the-challenge"}),
    ({"origin_in_client_data": "https://evil.example"}, {"origin": "https://evil.example"}),
    ({"cross_origin": True}, {"crossOrigin": True}),
    ({"top_origin": "https://x.example"}, {"topOrigin": "https://x.example"}),
    ({"extra_client_data": {"tokenBinding": {"status": "x"}}}, {"tokenBinding": {"status": "x"}}),
    ({"extra_client_data": {"crossOrigin": "yes"}}, {"crossOrigin": "yes"}),
]


@pytest.mark.parametrize(("override", "changed"), CLIENT_DATA_OVERRIDES)
def test_get_client_data_overrides(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
    override: dict[str, Any],
    changed: dict[str, Any],
) -> None:
    auth, cred, _ = steady
    base = auth.get(request_options(), origin=ORIGIN)
    other = auth.get(request_options(), origin=ORIGIN, **override)
    assert client_data_dict(other) == {**client_data_dict(base), **changed}
    assert field(other, "authenticatorData") == field(base, "authenticatorData")
    verify_assertion(other, cred.cose_key)
    assert {k: v for k, v in other.items() if k != "response"} == {
        k: v for k, v in base.items() if k != "response"
    }


def test_create_client_data_overrides() -> None:
    auth = SoftAuthenticator(attestation=Attestation.PACKED_SELF)
    for override, changed in CLIENT_DATA_OVERRIDES:
        reg = auth.create(creation_options(), origin=ORIGIN, **override)
        expected = {
            "type": "webauthn.create",
            "challenge": b64url(CHALLENGE),
            "origin": ORIGIN,
            "crossOrigin": False,
            **changed,
        }
        assert client_data_dict(reg) == expected
        att = AttestationObject(field(reg, "attestationObject"))
        verify_statement(att, field(reg, "clientDataJSON"))


def test_client_data_json_override_is_signed_verbatim(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
) -> None:
    auth, cred, _ = steady
    raw = b'{"type":"webauthn.get"'
    asserted = auth.get(request_options(), origin=ORIGIN, client_data_json=raw)
    assert field(asserted, "clientDataJSON") == raw
    verify_assertion(asserted, cred.cose_key)


def test_rp_id_override_changes_only_the_hash(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
) -> None:
    auth, cred, _ = steady
    base = field(auth.get(request_options(), origin=ORIGIN), "authenticatorData")
    other = auth.get(request_options(), origin=ORIGIN, rp_id="other.example")
    data = field(other, "authenticatorData")
    assert data[:32] == hashlib.sha256(b"other.example").digest()
    assert data[32:] == base[32:]
    verify_assertion(other, cred.cose_key)


@pytest.mark.parametrize(
    ("override", "flags"),
    [
        ({"flags_clear": Flag.UP | Flag.UV}, Flag(0)),
        ({"flags_clear": Flag.UV}, Flag.UP),
        ({"flags_set": Flag.BS}, Flag.UP | Flag.UV | Flag.BS),
        ({"flags_set": Flag.BE | Flag.BS}, Flag.UP | Flag.UV | Flag.BE | Flag.BS),
    ],
)
def test_flag_overrides(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
    override: dict[str, Any],
    flags: Flag,
) -> None:
    auth, cred, _ = steady
    base = field(auth.get(request_options(), origin=ORIGIN), "authenticatorData")
    other = auth.get(request_options(), origin=ORIGIN, **override)
    parsed = verify_assertion(other, cred.cose_key)
    assert parsed.flags == flags
    data = field(other, "authenticatorData")
    assert data[:32] + data[33:] == base[:32] + base[33:]


def test_flags_that_contradict_the_data_are_still_emitted(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
) -> None:
    auth, cred, _ = steady
    base = field(auth.get(request_options(), origin=ORIGIN), "authenticatorData")
    other = auth.get(request_options(), origin=ORIGIN, flags_set=Flag.AT)
    data = field(other, "authenticatorData")
    assert data[32] == base[32] | Flag.AT
    with pytest.raises(ValueError, match="Not enough data"):  # AT needs credential data
        AuthenticatorData(data)
    cred.cose_key.verify(
        data + hashlib.sha256(field(other, "clientDataJSON")).digest(), field(other, "signature")
    )


def test_counter_override(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
) -> None:
    auth, cred, _ = steady
    base = field(auth.get(request_options(), origin=ORIGIN), "authenticatorData")
    other = auth.get(request_options(), origin=ORIGIN, counter=5)
    assert verify_assertion(other, cred.cose_key).counter == 5
    data = field(other, "authenticatorData")
    assert data[:33] == base[:33]
    assert cred.sign_count == 7  # the stored counter is not moved by the override


def test_counter_override_does_not_advance_stored_count() -> None:
    auth = SoftAuthenticator()
    auth.create(creation_options(), origin=ORIGIN)
    auth.get(request_options(), origin=ORIGIN, counter=100)
    assert auth.credentials[0].sign_count == 0
    after = auth.get(request_options(), origin=ORIGIN)
    assert AuthenticatorData(field(after, "authenticatorData")).counter == 1


def test_user_handle_override(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
) -> None:
    auth, cred, _ = steady
    other = auth.get(request_options(), origin=ORIGIN, user_handle=b"mallory")
    assert other["response"]["userHandle"] == b64url(b"mallory")
    verify_assertion(other, cred.cose_key)
    none = auth.get(request_options(), origin=ORIGIN, user_handle=None)
    assert none["response"]["userHandle"] is None


def test_credential_id_override_keeps_the_real_key(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
) -> None:
    auth, cred, _ = steady
    other = auth.get(request_options(), origin=ORIGIN, credential_id=b"x" * 1024)
    assert other["id"] == other["rawId"] == b64url(b"x" * 1024)
    verify_assertion(other, cred.cose_key)
    assert cred.credential_id != b"x" * 1024


@pytest.mark.parametrize("alg", ALL_ALGS, ids=lambda a: a.name)
def test_corrupt_signature(alg: Alg) -> None:
    auth = SoftAuthenticator(alg=alg, counter_step=0)
    reg = auth.create(creation_options(), origin=ORIGIN)
    base = auth.get(request_options(), origin=ORIGIN)
    bad = auth.get(request_options(), origin=ORIGIN, corrupt_signature=True)
    assert field(bad, "authenticatorData") == field(base, "authenticatorData")
    assert field(bad, "clientDataJSON") == field(base, "clientDataJSON")
    with pytest.raises(CryptoInvalidSignature):
        verify_assertion(bad, cose_key_of(reg))


def test_authenticator_extensions_set_ed(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
) -> None:
    auth, cred, _ = steady
    other = auth.get(request_options(), origin=ORIGIN, authenticator_extensions={"x": 1})
    parsed = verify_assertion(other, cred.cose_key)
    assert parsed.flags == Flag.UP | Flag.UV | Flag.ED
    assert parsed.extensions == {"x": 1}


def test_response_shape_overrides(
    steady: tuple[SoftAuthenticator, SoftCredential, dict[str, Any]],
) -> None:
    auth, _, _ = steady
    other = auth.get(
        request_options(),
        origin=ORIGIN,
        attachment=None,
        client_extension_results={"appid": False},
    )
    assert "authenticatorAttachment" not in other
    assert other["clientExtensionResults"] == {"appid": False}
    reg = auth.create(
        creation_options(), origin=ORIGIN, transports=["usb", "nfc"], attachment="cross-platform"
    )
    assert reg["response"]["transports"] == ["usb", "nfc"]
    assert reg["authenticatorAttachment"] == "cross-platform"


def test_unknown_or_misplaced_override_is_a_type_error() -> None:
    auth = SoftAuthenticator()
    with pytest.raises(TypeError, match="bogus"):
        auth.create(creation_options(), origin=ORIGIN, bogus=1)
    assert auth.credentials == []
    auth.create(creation_options(), origin=ORIGIN)
    with pytest.raises(TypeError, match="attestation_signature_corrupt"):
        auth.get(request_options(), origin=ORIGIN, attestation_signature_corrupt=True)
    with pytest.raises(TypeError, match="corrupt_signature"):
        auth.create(creation_options(), origin=ORIGIN, corrupt_signature=True)
    assert auth.credentials[0].sign_count == 0
