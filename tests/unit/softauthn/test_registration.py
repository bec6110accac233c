"""Registration with every attestation format and algorithm, then assertions with the key."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pytest
from fido2.attestation.base import (
    AttestationType,
)
from fido2.cose import CoseKey
from fido2.webauthn import CollectedClientData

from tests.softauthn import (
    DEFAULT_AAGUID,
    Alg,
    Attestation,
    Flag,
    NotSupportedError,
    SoftAuthenticator,
    SoftCredential,
    TestCA,
    b64url,
    b64url_decode,
)
from tests.unit.softauthn.helpers import (
    ALL_ALGS,
    CHALLENGE,
    ORIGIN,
    RP_ID,
    USER_ID,
    RootVerifier,
    client_data_dict,
    cose_key_of,
    creation_options,
    field,
    registration,
    request_options,
    verify_assertion,
    verify_statement,
)

# ------------------------------------------------------------------ every attestation x alg

CASES = [
    *[(Attestation.NONE, a) for a in ALL_ALGS],
    *[(Attestation.PACKED_SELF, a) for a in ALL_ALGS],
    *[(Attestation.PACKED_CA, a) for a in ALL_ALGS],
    (Attestation.FIDO_U2F, Alg.ES256),
]


@pytest.mark.parametrize(("attestation", "alg"), CASES, ids=lambda v: str(getattr(v, "name", v)))
def test_register_then_assert(ca: TestCA, attestation: Attestation, alg: Alg) -> None:
    auth = SoftAuthenticator(ca=ca, attestation=attestation, alg=alg)
    reg = auth.create(creation_options(), origin=ORIGIN)

    assert reg["type"] == "public-key"
    assert reg["id"] == reg["rawId"]
    assert reg["clientExtensionResults"] == {}
    u2f = attestation is Attestation.FIDO_U2F
    assert reg["authenticatorAttachment"] == ("cross-platform" if u2f else "platform")
    assert reg["response"]["transports"] == (["usb"] if u2f else ["internal"])

    att, client_data = registration(reg)
    assert client_data.type == "webauthn.create"
    assert client_data.challenge == CHALLENGE
    assert client_data.origin == ORIGIN
    assert client_data.cross_origin is False

    auth_data = att.auth_data
    assert auth_data.rp_id_hash == hashlib.sha256(RP_ID.encode()).digest()
    assert auth_data.flags == Flag.UP | Flag.UV | Flag.AT
    assert auth_data.counter == 0
    cred_data = auth_data.credential_data
    assert cred_data is not None
    assert cred_data.credential_id == b64url_decode(reg["rawId"])
    assert cred_data.aaguid == (bytes(16) if u2f else DEFAULT_AAGUID)
    assert alg == cred_data.public_key.ALGORITHM
    assert cred_data.public_key == auth.credentials[0].cose_key

    result = verify_statement(att, bytes(client_data))
    if attestation is Attestation.NONE:
        assert att.fmt == "none"
        assert att.att_stmt == {}
        assert result.attestation_type is AttestationType.NONE
    elif attestation is Attestation.PACKED_SELF:
        assert att.fmt == "packed"
        assert set(att.att_stmt) == {"alg", "sig"}
        assert att.att_stmt["alg"] == alg
        assert result.attestation_type is AttestationType.SELF
    else:
        assert att.fmt == ("fido-u2f" if u2f else "packed")
        assert set(att.att_stmt) == ({"sig", "x5c"} if u2f else {"alg", "sig", "x5c"})
        assert len(att.att_stmt["x5c"]) == 1
        assert result.attestation_type is AttestationType.BASIC
        RootVerifier(ca.root_der).verify_attestation(att, client_data.hash)

    cred = auth.credentials[0]
    assert cred.alg is alg
    assert cred.user_handle == USER_ID
    assert cred.rp_id == RP_ID
    assert_two_assertions(auth, cred, cred_data.public_key, reg)


def assert_two_assertions(
    auth: SoftAuthenticator, cred: SoftCredential, key: CoseKey, reg: Mapping[str, Any]
) -> None:
    """Two assertions verify with the registered key and count 1, 2."""
    for expected_counter in (1, 2):
        asserted = auth.get(request_options(allow=[cred.credential_id]), origin=ORIGIN)
        parsed = verify_assertion(asserted, key)
        assert parsed.counter == expected_counter
        assert parsed.flags == Flag.UP | Flag.UV
        assert parsed.rp_id_hash == hashlib.sha256(RP_ID.encode()).digest()
        assert asserted["id"] == asserted["rawId"] == reg["rawId"]
        assert asserted["response"]["userHandle"] == b64url(USER_ID)
        assert asserted["clientExtensionResults"] == {}
        get_data = CollectedClientData(field(asserted, "clientDataJSON"))
        assert get_data.type == "webauthn.get"
        assert get_data.challenge == CHALLENGE
    assert cred.sign_count == 2


def test_client_data_json_is_compact_and_keeps_the_challenge_string() -> None:
    auth = SoftAuthenticator()
    options = creation_options()
    reg = auth.create(options, origin=ORIGIN)
    expected = (
        '{"type":"webauthn.create","challenge":"' + options["challenge"] + '",'
        '"origin":"https://example.com","crossOrigin":false}'
    )
    assert field(reg, "clientDataJSON").decode() == expected
    # A padded challenge string would be passed through unchanged too.
    odd = dict(request_options(), challenge="AQID")
    asserted = auth.get(odd, origin=ORIGIN)
    assert client_data_dict(asserted)["challenge"] == "AQID"


def test_backup_flags_and_no_uv_up() -> None:
    auth = SoftAuthenticator(uv=False, up=False, backup_eligible=True, backed_up=True)
    reg = auth.create(creation_options(), origin=ORIGIN)
    att, _ = registration(reg)
    assert att.auth_data.flags == Flag.BE | Flag.BS | Flag.AT
    asserted = auth.get(request_options(), origin=ORIGIN)
    assert verify_assertion(asserted, cose_key_of(reg)).flags == Flag.BE | Flag.BS


# --------------------------------------------------------------------------- algorithm choice


def test_first_supported_alg_in_offer_order() -> None:
    auth = SoftAuthenticator(alg=[Alg.ES256, Alg.RS256])
    reg = auth.create(creation_options(algs=[-8, -257, -7]), origin=ORIGIN)
    assert cose_key_of(reg).ALGORITHM == Alg.RS256
    reg = auth.create(creation_options(algs=[-7, -257]), origin=ORIGIN)
    assert cose_key_of(reg).ALGORITHM == Alg.ES256


def test_no_supported_alg_is_not_supported() -> None:
    auth = SoftAuthenticator(alg=Alg.ES256)
    with pytest.raises(NotSupportedError):
        auth.create(creation_options(algs=[-8, -257]), origin=ORIGIN)
    assert auth.credentials == []


def test_alg_override_forces_an_alg_not_offered() -> None:
    auth = SoftAuthenticator(attestation=Attestation.PACKED_SELF)
    reg = auth.create(creation_options(algs=[-7]), origin=ORIGIN, alg=Alg.PS256)
    att, client_data = registration(reg)
    assert cose_key_of(reg).ALGORITHM == Alg.PS256
    assert att.att_stmt["alg"] == Alg.PS256
    verify_statement(att, bytes(client_data))


def test_alg_id_override_claims_another_alg_for_the_same_key() -> None:
    auth = SoftAuthenticator(attestation=Attestation.PACKED_SELF)
    reg = auth.create(creation_options(algs=[-7]), origin=ORIGIN, alg_id=-35)
    claimed = cose_key_of(reg)
    assert claimed[3] == -35
    real = auth.credentials[0].cose_key
    assert {k: v for k, v in claimed.items() if k != 3} == {k: v for k, v in real.items() if k != 3}
    att, client_data = registration(reg)
    assert att.att_stmt["alg"] == Alg.ES256
    real.verify(bytes(att.auth_data) + client_data.hash, att.att_stmt["sig"])


def test_fido_u2f_is_es256_only(ca: TestCA) -> None:
    with pytest.raises(ValueError, match="ES256"):
        SoftAuthenticator(ca=ca, attestation=Attestation.FIDO_U2F, alg=Alg.RS256)
    auth = SoftAuthenticator(ca=ca, attestation=Attestation.FIDO_U2F)
    with pytest.raises(NotSupportedError):
        auth.create(creation_options(algs=[-257]), origin=ORIGIN)


def test_ca_attestation_needs_a_ca() -> None:
    with pytest.raises(ValueError, match="TestCA"):
        SoftAuthenticator(attestation=Attestation.PACKED_CA)
