"""DPoP proofs (RFC 9449 §4.3) and the stateless server nonces, one refusal per check."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from mobile_bridge.dpop import (
    NONCE_STEP,
    NonceRequired,
    Nonces,
    ProofInvalid,
    VerifiedProof,
    access_token_hash,
    normalized_url,
    verify_proof,
)

NOW = 1_800_000_000.0
URL = "https://login.example.com/oauth/token"
NONCES = Nonces.from_secret("unit-test-secret-0123456789")


def _key() -> ECKey:
    return ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))


KEY = _key()


def _proof(
    key: ECKey = KEY,
    *,
    header: dict[str, Any] | None = None,
    alg: str = "ES256",
    **claims: Any,
) -> str:
    payload: dict[str, Any] = {
        "jti": "j-1",
        "htm": "POST",
        "htu": URL,
        "iat": int(NOW),
        "nonce": NONCES.issue(NOW),
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    head = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False), **(header or {})}
    return jwt.encode(head, payload, key, algorithms=[alg])


def _verify(proof: str, *, now: float = NOW, access_token: str | None = None) -> VerifiedProof:
    return verify_proof(
        proof,
        method="POST",
        urls={URL},
        now=now,
        nonces=NONCES,
        access_token=access_token,
    )


def test_a_good_proof_names_its_key() -> None:
    verified = _verify(_proof())
    assert verified == VerifiedProof(jkt=KEY.thumbprint(), jti="j-1", issued_at=int(NOW))


def test_the_method_must_match() -> None:
    with pytest.raises(ProofInvalid, match="htm"):
        _verify(_proof(htm="GET"))


@pytest.mark.parametrize(
    "htu",
    [
        "https://login.example.com/oauth/other",
        "https://evil.example.com/oauth/token",
        "/oauth/token",
    ],
)
def test_the_url_must_match(htu: str) -> None:
    with pytest.raises(ProofInvalid, match="htu"):
        _verify(_proof(htu=htu))


def test_query_fragment_case_and_default_port_do_not_matter() -> None:
    assert _verify(_proof(htu="HTTPS://Login.Example.com:443/oauth/token?x=1#f"))


@pytest.mark.parametrize("age", [-61, 301])
def test_a_stale_or_future_iat_is_refused(age: int) -> None:
    with pytest.raises(ProofInvalid, match="iat"):
        _verify(_proof(iat=int(NOW) - age))


def test_a_missing_nonce_asks_for_one() -> None:
    with pytest.raises(NonceRequired):
        _verify(_proof(nonce=None))


def test_a_nonce_lives_one_to_two_steps() -> None:
    proof = _proof()
    assert _verify(proof, now=NOW + NONCE_STEP)  # the previous step is still accepted
    with pytest.raises(NonceRequired):
        _verify(_proof(iat=int(NOW + 2 * NONCE_STEP)), now=NOW + 2 * NONCE_STEP)


def test_another_deployments_nonce_is_refused() -> None:
    other = Nonces.from_secret("another-secret-0123456789").issue(NOW)
    with pytest.raises(NonceRequired):
        _verify(_proof(nonce=other))


def test_a_resource_request_needs_the_tokens_hash() -> None:
    token = "eyJ.the.token"
    assert _verify(_proof(ath=access_token_hash(token)), access_token=token)
    with pytest.raises(ProofInvalid, match="ath"):
        _verify(_proof(), access_token=token)
    with pytest.raises(ProofInvalid, match="ath"):
        _verify(_proof(ath=access_token_hash("another")), access_token=token)


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused() -> None:
    other = _key()
    proof = _proof(other, header={"jwk": KEY.as_dict(private=False)})
    with pytest.raises(ProofInvalid, match="not a valid signed JWT"):
        _verify(proof)


def test_a_private_jwk_is_refused() -> None:
    with pytest.raises(ProofInvalid, match="public"):
        _verify(_proof(header={"jwk": KEY.as_dict(private=True)}))


def test_the_type_must_be_dpop_jwt() -> None:
    with pytest.raises(ProofInvalid, match="typ"):
        _verify(_proof(header={"typ": "JWT"}))


def test_a_symmetric_algorithm_is_refused() -> None:
    secret = OctKey.generate_key(256)
    head = {"typ": "dpop+jwt", "alg": "HS256", "jwk": secret.as_dict(private=False)}
    payload = {"jti": "j", "htm": "POST", "htu": URL, "iat": int(NOW)}
    proof = jwt.encode(head, payload, secret, algorithms=["HS256"])
    with pytest.raises(ProofInvalid):
        _verify(proof)


def test_alg_none_is_refused() -> None:
    head = {"typ": "dpop+jwt", "alg": "none", "jwk": KEY.as_dict(private=False)}
    body = {"jti": "j", "htm": "POST", "htu": URL, "iat": int(NOW), "nonce": NONCES.issue(NOW)}
    parts = [json.dumps(head).encode(), json.dumps(body).encode()]
    proof = ".".join(base64.urlsafe_b64encode(p).rstrip(b"=").decode() for p in parts) + "."
    with pytest.raises(ProofInvalid):
        _verify(proof)


@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "x" * 5000, "é.é.é"])
def test_garbage_is_refused_cleanly(garbage: str) -> None:
    with pytest.raises(ProofInvalid):
        _verify(garbage)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://A.example.com/p", "https://a.example.com/p"),
        ("http://localhost:5000", "http://localhost:5000/"),
        ("https://a.example.com:8443/p?q", "https://a.example.com:8443/p"),
        ("ftp://a.example.com/p", None),
        ("https://user@a.example.com/p", None),
        ("https://a.example.com:99999/p", None),
    ],
)
def test_urls_are_normalised_per_rfc_3986(url: str, expected: str | None) -> None:
    assert normalized_url(url) == expected
