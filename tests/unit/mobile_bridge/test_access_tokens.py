"""RFC 9068 access tokens: what is minted, and every reason a token is refused."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from mobile_bridge.access_tokens import (
    AccessClaims,
    AccessTokenInvalid,
    amr_of,
    mint,
    verify,
)
from mobile_bridge.signing_keys import SigningKey, generate

ISS = "https://login.example.com"
AUD = "https://api.example.com"
NOW = 1_800_000_000


def _claims(**changes: object) -> AccessClaims:
    base = AccessClaims(
        issuer=ISS,
        audience=AUD,
        subject="dXNlci1oYW5kbGU",
        issued_at=NOW,
        expires_at=NOW + 300,
        jti="jti-1",
        amr=("hwk", "user"),
        auth_time=NOW - 10,
        credential_id="Y3JlZA",
        sid="0123456789abcdef",
        client_id="ABCDE12345.com.example.app",
        jkt="thumb",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _verify(token: str, key: SigningKey, *, now: float = NOW, aud: str = AUD) -> AccessClaims:
    known = {key.kid: key.key}
    return verify(token, find_key=known.get, issuer=ISS, audience=aud, now=now)


@pytest.fixture
def key() -> SigningKey:
    return generate(NOW)


def test_a_minted_token_verifies_with_its_header_and_claims(key: SigningKey) -> None:
    token = mint(_claims(), key)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"typ": "at+jwt", "alg": "ES256", "kid": key.kid}
    assert _verify(token, key) == _claims()


def test_amr_follows_rfc_8176() -> None:
    assert amr_of(hardware_key=True, user_verified=True) == ("hwk", "user")
    assert amr_of(hardware_key=False, user_verified=True) == ("swk", "user")
    assert amr_of(hardware_key=False, user_verified=False) == ("swk",)


def test_an_expired_token_is_refused(key: SigningKey) -> None:
    token = mint(_claims(), key)
    assert _verify(token, key, now=NOW + 300 + 29)  # within the leeway
    with pytest.raises(AccessTokenInvalid, match="expired"):
        _verify(token, key, now=NOW + 300 + 31)


def test_a_token_from_the_future_is_refused(key: SigningKey) -> None:
    with pytest.raises(AccessTokenInvalid, match="issued in the future"):
        _verify(mint(_claims(issued_at=NOW + 120, expires_at=NOW + 400), key), key)


def test_a_flipped_signature_byte_is_refused(key: SigningKey) -> None:
    head, body, sig = mint(_claims(), key).split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    raw[5] ^= 0x01
    flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(AccessTokenInvalid):
        _verify(f"{head}.{body}.{flipped}", key)


def test_a_changed_claim_is_refused(key: SigningKey) -> None:
    head, _, sig = mint(_claims(), key).split(".")
    forged = _claims(sid="fedcba9876543210").to_claims()
    body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(AccessTokenInvalid):
        _verify(f"{head}.{body}.{sig}", key)


def test_a_key_that_is_not_ours_is_refused(key: SigningKey) -> None:
    other = generate(NOW)
    token = mint(_claims(), replace(other, kid=key.kid))  # claims our kid
    with pytest.raises(AccessTokenInvalid):
        _verify(token, key)
    with pytest.raises(AccessTokenInvalid, match="no current signing key"):
        _verify(mint(_claims(), other), key)


def test_another_audience_or_issuer_is_refused(key: SigningKey) -> None:
    with pytest.raises(AccessTokenInvalid, match="aud"):
        _verify(mint(_claims(), key), key, aud="https://other.example.com")
    with pytest.raises(AccessTokenInvalid, match="iss"):
        _verify(mint(_claims(issuer="https://evil.example.com"), key), key)


def test_an_id_token_or_plain_jwt_is_not_an_access_token(key: SigningKey) -> None:
    plain = jwt.encode({"alg": "ES256", "kid": key.kid}, _claims().to_claims(), key.key)
    with pytest.raises(AccessTokenInvalid, match="typ"):
        _verify(plain, key)


@pytest.mark.parametrize("alg", ["HS256", "none", "ES384"])
def test_other_algorithms_are_refused(key: SigningKey, alg: str) -> None:
    header = json.dumps({"typ": "at+jwt", "alg": alg, "kid": key.kid}).encode()
    body = json.dumps(_claims().to_claims()).encode()
    parts = [base64.urlsafe_b64encode(p).rstrip(b"=").decode() for p in (header, body, b"x")]
    with pytest.raises(AccessTokenInvalid):
        _verify(".".join(parts), key)


@pytest.mark.parametrize("missing", ["sid", "credential_id", "amr", "sub", "jti"])
def test_a_token_without_a_needed_claim_is_refused(key: SigningKey, missing: str) -> None:
    claims = _claims().to_claims()
    del claims[missing]
    token = jwt.encode({"typ": "at+jwt", "alg": "ES256", "kid": key.kid}, claims, key.key)
    with pytest.raises(AccessTokenInvalid):
        _verify(token, key)


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "x" * 5000, "é.é.é"])
def test_garbage_is_refused_cleanly(key: SigningKey, garbage: str) -> None:
    with pytest.raises(AccessTokenInvalid):
        _verify(garbage, key)


def test_a_public_key_alone_verifies(key: SigningKey) -> None:
    public = ECKey.import_key(dict(key.public_jwk()))
    assert not public.is_private
    token = mint(_claims(), key)
    assert verify(token, find_key={key.kid: public}.get, issuer=ISS, audience=AUD, now=NOW)
