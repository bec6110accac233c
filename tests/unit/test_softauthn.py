"""The software authenticator checked against python-fido2 alone (no service involved).

Everything it emits is parsed with fido2's own types, every attestation statement is checked by
fido2's verifiers, and every assertion signature by the COSE key from registration, for each
algorithm; each override is shown to change exactly what it names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.attestation.base import Attestation as Fido2Attestation
from fido2.attestation.base import (
    AttestationResult,
    AttestationType,
    AttestationVerifier,
    InvalidData,
    InvalidSignature,
    NoneAttestation,
    UntrustedAttestation,
)
from fido2.attestation.packed import PackedAttestation
from fido2.attestation.u2f import FidoU2FAttestation
from fido2.cose import CoseKey
from fido2.webauthn import AttestationObject, AuthenticatorData, CollectedClientData

from tests.softauthn import (
    DEFAULT_AAGUID,
    OID_FIDO_AAGUID,
    Alg,
    Attestation,
    ExcludedCredentialError,
    Flag,
    NoCredentialError,
    NotSupportedError,
    SoftAuthenticator,
    SoftCredential,
    TestCA,
    b64url,
    b64url_decode,
)

RP_ID = "example.com"
ORIGIN = "https://example.com"
USER_ID = b"user-handle-0001"
CHALLENGE = b"\x01" * 32
ALL_ALGS = (Alg.ES256, Alg.EdDSA, Alg.RS256, Alg.PS256)


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ca() -> TestCA:
    """One CA for the module (key generation is the slow part)."""
    return TestCA.generate()


def creation_options(
    *,
    algs: Iterable[int] = (-7, -8, -37, -257),
    exclude: Iterable[bytes] = (),
    resident_key: str = "required",
    challenge: bytes = CHALLENGE,
) -> dict[str, Any]:
    """Options shaped like the service's, with its extra status keys."""
    return {
        "status": "ok",
        "errorMessage": "",
        "rp": {"id": RP_ID, "name": "Example"},
        "user": {"id": b64url(USER_ID), "name": "alice", "displayName": "Alice"},
        "challenge": b64url(challenge),
        "pubKeyCredParams": [{"type": "public-key", "alg": a} for a in algs],
        "timeout": 60000,
        "excludeCredentials": [{"type": "public-key", "id": b64url(i)} for i in exclude],
        "authenticatorSelection": {"residentKey": resident_key, "userVerification": "required"},
        "attestation": "direct",
        "extensions": {},
    }


def request_options(
    *, allow: Iterable[bytes] = (), rp_id: str | None = RP_ID, challenge: bytes = CHALLENGE
) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptionsJSON like the service's."""
    options: dict[str, Any] = {
        "status": "ok",
        "errorMessage": "",
        "challenge": b64url(challenge),
        "timeout": 60000,
        "allowCredentials": [
            {"type": "public-key", "id": b64url(i), "transports": ["internal"]} for i in allow
        ],
        "userVerification": "required",
        "extensions": {},
    }
    if rp_id is not None:
        options["rpId"] = rp_id
    return options


def field(response: Mapping[str, Any], name: str) -> bytes:
    """Decode a base64url field of ``response["response"]``."""
    return b64url_decode(response["response"][name])


def registration(response: Mapping[str, Any]) -> tuple[AttestationObject, CollectedClientData]:
    """Parse a RegistrationResponseJSON with fido2."""
    return (
        AttestationObject(field(response, "attestationObject")),
        CollectedClientData(field(response, "clientDataJSON")),
    )


def verify_statement(att: AttestationObject, client_data: bytes) -> AttestationResult:
    """Verify the attestation statement with fido2's verifier for its format."""
    verifiers: dict[str, Fido2Attestation] = {
        "none": NoneAttestation(),
        "packed": PackedAttestation(),
        "fido-u2f": FidoU2FAttestation(),
    }
    return verifiers[att.fmt].verify(
        att.att_stmt, att.auth_data, hashlib.sha256(client_data).digest()
    )


class RootVerifier(AttestationVerifier):
    """fido2's full check: statement, then the x5c chain up to the given root."""

    def __init__(self, root_der: bytes) -> None:
        super().__init__([PackedAttestation(), FidoU2FAttestation()])
        self.root_der = root_der

    def ca_lookup(self, attestation_result: AttestationResult, auth_data: Any) -> bytes | None:
        """Always the one test root."""
        return self.root_der


def cose_key_of(response: Mapping[str, Any]) -> CoseKey:
    """The credential public key from a registration response."""
    att, _ = registration(response)
    assert att.auth_data.credential_data is not None
    return att.auth_data.credential_data.public_key


def verify_assertion(response: Mapping[str, Any], key: CoseKey) -> AuthenticatorData:
    """Check an assertion's signature with ``key``; return its parsed authenticator data."""
    auth_data = field(response, "authenticatorData")
    client_data = field(response, "clientDataJSON")
    key.verify(auth_data + hashlib.sha256(client_data).digest(), field(response, "signature"))
    return AuthenticatorData(auth_data)


def client_data_dict(response: Mapping[str, Any]) -> dict[str, Any]:
    """clientDataJSON as a dict."""
    value: dict[str, Any] = json.loads(field(response, "clientDataJSON"))
    return value


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


# ----------------------------------------------------------------------------- certificates


def test_packed_leaf_profile(ca: TestCA) -> None:
    aaguid = bytes(range(16))
    key, cert = ca.issue_leaf(aaguid=aaguid)
    assert isinstance(key.curve, ec.SECP256R1)
    assert cert.version is x509.Version.v3
    subject = cert.subject
    for oid in (x509.NameOID.COUNTRY_NAME, x509.NameOID.ORGANIZATION_NAME):
        assert subject.get_attributes_for_oid(oid)
    assert subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    unit = subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert [a.value for a in unit] == ["Authenticator Attestation"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ext = cert.extensions.get_extension_for_oid(OID_FIDO_AAGUID)
    assert ext.critical is False
    assert isinstance(ext.value, x509.UnrecognizedExtension)
    assert ext.value.value == b"\x04\x10" + aaguid
    cert.verify_directly_issued_by(ca.root_cert)
    assert cert.not_valid_before_utc == ca.root_cert.not_valid_before_utc
    assert cert.not_valid_after_utc == ca.root_cert.not_valid_after_utc

    _, no_aaguid = ca.issue_leaf(aaguid=None)
    with pytest.raises(x509.ExtensionNotFound):
        no_aaguid.extensions.get_extension_for_oid(OID_FIDO_AAGUID)


def test_u2f_leaf_is_p256(ca: TestCA) -> None:
    key, cert = ca.issue_leaf(aaguid=None, u2f=True)
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert isinstance(public.curve, ec.SECP256R1)
    assert public.public_numbers() == key.public_key().public_numbers()
    cert.verify_directly_issued_by(ca.root_cert)


def test_ca_validity_and_pem() -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=30)
    ca = TestCA.generate(not_before=start, not_after=end)
    root = x509.load_pem_x509_certificate(ca.root_pem.encode())
    assert root == ca.root_cert
    assert root.not_valid_before_utc == start
    assert root.not_valid_after_utc == end
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    _, leaf = ca.issue_leaf(aaguid=DEFAULT_AAGUID)
    assert leaf.not_valid_after_utc == end
    assert TestCA.__test__ is False


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


# ------------------------------------------------------------------------ assertion overrides


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


# --------------------------------------------------------------------- registration overrides


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
