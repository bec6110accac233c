"""Each registration override changes exactly what it names."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pytest
from fido2 import cbor
from fido2.attestation.base import (
    InvalidData,
    InvalidSignature,
    UntrustedAttestation,
)
from fido2.webauthn import AttestationObject

from tests.softauthn import (
    DEFAULT_AAGUID,
    Alg,
    Attestation,
    Flag,
    SoftAuthenticator,
    TestCA,
    b64url,
)
from tests.unit.softauthn.helpers import (
    ORIGIN,
    RP_ID,
    USER_ID,
    RootVerifier,
    cose_key_of,
    creation_options,
    field,
    registration,
    verify_statement,
)


@pytest.mark.parametrize(
    "attestation", [Attestation.PACKED_SELF, Attestation.PACKED_CA, Attestation.FIDO_U2F]
)
def test_attestation_signature_corrupt(ca: TestCA, attestation: Attestation) -> None:
    auth = SoftAuthenticator(ca=ca, attestation=attestation)
    reg = auth.create(creation_options(), origin=ORIGIN, attestation_signature_corrupt=True)
    att, client_data = registration(reg)
    assert att.auth_data.credential_data is not None
    with pytest.raises(InvalidSignature):
        verify_statement(att, bytes(client_data))


def test_attestation_signature_corrupt_needs_a_signature() -> None:
    with pytest.raises(TypeError):
        SoftAuthenticator().create(
            creation_options(), origin=ORIGIN, attestation_signature_corrupt=True
        )


def test_create_rp_id_override(ca: TestCA) -> None:
    auth = SoftAuthenticator(ca=ca, attestation=Attestation.PACKED_CA)
    reg = auth.create(creation_options(), origin=ORIGIN, rp_id="other.example")
    att, client_data = registration(reg)
    assert att.auth_data.rp_id_hash == hashlib.sha256(b"other.example").digest()
    verify_statement(att, bytes(client_data))
    assert auth.credentials[0].rp_id == RP_ID


def test_create_flags_and_counter_overrides() -> None:
    auth = SoftAuthenticator(attestation=Attestation.PACKED_SELF)
    reg = auth.create(
        creation_options(), origin=ORIGIN, flags_clear=Flag.UV, flags_set=Flag.BS, counter=9
    )
    att, client_data = registration(reg)
    assert att.auth_data.flags == Flag.UP | Flag.BS | Flag.AT
    assert att.auth_data.counter == 9
    assert auth.credentials[0].sign_count == 0
    verify_statement(att, bytes(client_data))


def test_create_without_at_flag_still_encodes() -> None:
    auth = SoftAuthenticator(attestation=Attestation.PACKED_SELF)
    reg = auth.create(creation_options(), origin=ORIGIN, flags_clear=Flag.AT)
    raw = field(reg, "attestationObject")
    with pytest.raises(ValueError, match="Wrong length"):
        AttestationObject(raw)
    decoded = cbor.decode(raw)
    assert isinstance(decoded, Mapping)
    assert decoded["fmt"] == "packed"
    auth_data = decoded["authData"]
    assert auth_data[32] == Flag.UP | Flag.UV
    cred = auth.credentials[0]
    cred.cose_key.verify(
        auth_data + hashlib.sha256(field(reg, "clientDataJSON")).digest(),
        decoded["attStmt"]["sig"],
    )


def test_credential_id_and_user_handle_overrides() -> None:
    auth = SoftAuthenticator()
    reg = auth.create(
        creation_options(), origin=ORIGIN, credential_id=b"x" * 1024, user_handle=b"h"
    )
    att, _ = registration(reg)
    assert att.auth_data.credential_data is not None
    assert att.auth_data.credential_data.credential_id == b"x" * 1024
    assert reg["rawId"] == b64url(b"x" * 1024)
    assert auth.credentials[0].user_handle == b"h"


def test_discoverable_override() -> None:
    auth = SoftAuthenticator()
    auth.create(creation_options(resident_key="discouraged"), origin=ORIGIN, discoverable=True)
    auth.create(creation_options(), origin=ORIGIN, discoverable=False)
    assert [c.user_handle for c in auth.credentials] == [USER_ID, None]


def test_aaguid_override_mismatches_the_certificate(ca: TestCA) -> None:
    auth = SoftAuthenticator(ca=ca, attestation=Attestation.PACKED_CA)
    reg = auth.create(creation_options(), origin=ORIGIN, aaguid=b"\x07" * 16)
    att, client_data = registration(reg)
    assert att.auth_data.credential_data is not None
    assert att.auth_data.credential_data.aaguid == b"\x07" * 16
    with pytest.raises(InvalidData, match="AAGUID"):
        verify_statement(att, bytes(client_data))


def test_attestation_leaf_from_another_ca_is_untrusted(ca: TestCA) -> None:
    stranger = TestCA.generate()
    leaf = stranger.issue_leaf(aaguid=DEFAULT_AAGUID)
    auth = SoftAuthenticator(ca=ca, attestation=Attestation.PACKED_CA)
    reg = auth.create(creation_options(), origin=ORIGIN, attestation_leaf=leaf)
    att, client_data = registration(reg)
    verify_statement(att, bytes(client_data))  # the statement itself is fine
    with pytest.raises(UntrustedAttestation):
        RootVerifier(ca.root_der).verify_attestation(att, client_data.hash)
    RootVerifier(stranger.root_der).verify_attestation(att, client_data.hash)


def test_attestation_override_per_call(ca: TestCA) -> None:
    auth = SoftAuthenticator(ca=ca, alg=[Alg.RS256, Alg.ES256])
    reg = auth.create(creation_options(), origin=ORIGIN, attestation=Attestation.FIDO_U2F)
    att, client_data = registration(reg)
    assert att.fmt == "fido-u2f"
    assert cose_key_of(reg).ALGORITHM == Alg.ES256
    verify_statement(att, bytes(client_data))


def test_batch_leaf_is_reused(ca: TestCA) -> None:
    auth = SoftAuthenticator(ca=ca, attestation=Attestation.PACKED_CA)
    first, _ = registration(auth.create(creation_options(), origin=ORIGIN))
    second, _ = registration(auth.create(creation_options(), origin=ORIGIN))
    assert first.att_stmt["x5c"] == second.att_stmt["x5c"]
