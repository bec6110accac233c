"""BLOBs we sign ourselves: each rule of verify_blob broken on its own, and hostile bytes."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from authsvc.trust.metadata import MetadataRefused, verify_blob
from tests.unit.metadata.blobs import Signer, b64url, entry, jws_signature, make_signer, payload
from tests.unit.trust.builders import T0, YEAR

AAGUID = "0b0b0b0b-1111-4222-8333-444444444444"


def small_payload() -> dict[str, object]:
    return payload([entry("Test Key", [("FIDO_CERTIFIED_L1", "2023-01-01")], aaguid=AAGUID)])


def refused(data: bytes, signer: Signer, *, at: object = T0) -> str:
    with pytest.raises(MetadataRefused) as error:
        verify_blob(data, root=signer.anchors, at=at)  # type: ignore[arg-type]
    return error.value.reason


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256"])
def test_each_allowed_algorithm_verifies(alg: str) -> None:
    signer = make_signer(rsa_leaf=alg != "ES256")
    verified = verify_blob(signer.sign(small_payload(), alg=alg), root=signer.anchors, at=T0)
    assert (verified.no, verified.next_update.isoformat()) == (7, "2031-07-01")
    assert [str(e.aaguid) for e in verified.payload.entries] == [AAGUID]


def test_a_trailing_newline_is_ignored(signer: Signer) -> None:
    assert verify_blob(signer.sign(small_payload()) + b"\n", root=signer.anchors, at=T0).no == 7


def test_past_next_update_is_refused(signer: Signer) -> None:
    stale = signer.sign(payload([], nextUpdate="2031-05-31"))
    assert (
        refused(stale, signer) == "BLOB is past its nextUpdate 2031-05-31 (checked on 2031-06-01)"
    )


def test_next_update_on_the_day_itself_is_accepted(signer: Signer) -> None:
    blob = signer.sign(payload([], nextUpdate=T0.date().isoformat()))
    assert verify_blob(blob, root=signer.anchors, at=T0).next_update == T0.date()


def test_another_ca_is_refused(signer: Signer) -> None:
    assert "no valid path" in refused(signer.sign(small_payload()), make_signer())


def test_a_leaf_for_another_name_is_refused() -> None:
    """GlobalSign R3 also issues ordinary TLS certificates: the name must be FIDO's."""
    other = make_signer(name="www.example.com")
    reason = refused(other.sign(small_payload()), other)
    assert reason == "BLOB is signed by ['www.example.com'], not by 'mds.fidoalliance.org'"
    verified = verify_blob(
        other.sign(small_payload()), root=other.anchors, at=T0, signer="www.example.com"
    )
    assert verified.no == 7
    assert verify_blob(other.sign(small_payload()), root=other.anchors, at=T0, signer=None)


def test_an_expired_leaf_is_refused(signer: Signer) -> None:
    assert "certificate has expired: x5c[0]" in refused(
        signer.sign(small_payload()), signer, at=T0 + 2 * YEAR
    )


@pytest.mark.parametrize("alg", ["none", "HS256", "RS384", "EdDSA", "", None, 256])
def test_other_algorithms_are_refused(signer: Signer, alg: object) -> None:
    data = signer.sign(small_payload(), header={"alg": alg})
    assert refused(data, signer).startswith(f"BLOB alg {alg!r} is not one of ES256, PS256, RS256")


def test_unsigned_jws_is_refused(signer: Signer) -> None:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    data = header + b"." + b64url(json.dumps(small_payload()).encode()) + b"."
    assert refused(data, signer).startswith("BLOB alg 'none'")


def test_es256_with_an_rsa_leaf_is_refused() -> None:
    signer = make_signer(rsa_leaf=True)
    data = signer.sign(small_payload(), alg="RS256", header={"alg": "ES256"})
    assert refused(data, signer) == "BLOB alg ES256 needs a P-256 key in x5c[0]"


def test_rs256_with_an_ec_leaf_is_refused(signer: Signer) -> None:
    data = signer.sign(small_payload(), header={"alg": "RS256"})
    assert refused(data, signer) == "BLOB alg RS256 needs an RSA key in x5c[0]"


def test_a_short_rsa_key_is_refused() -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    weak = make_signer(leaf_key=short)
    assert refused(weak.sign(small_payload(), alg="RS256"), weak).endswith("fewer than 2048")


def test_a_der_es256_signature_is_refused(signer: Signer) -> None:
    """JWS ES256 is r || s; the DER form fido2's CoseKey expects must not slip through."""
    head, body, _ = signer.sign(small_payload()).split(b".")
    assert isinstance(signer.leaf.key, ec.EllipticCurvePrivateKey)
    der = signer.leaf.key.sign(head + b"." + body, ec.ECDSA(hashes.SHA256()))
    reason = refused(head + b"." + body + b"." + b64url(der), signer)
    assert reason.startswith("BLOB ES256 signature is")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"x5c": None}, "BLOB header has no x5c certificate chain"),
        ({"x5c": []}, "BLOB header has no x5c certificate chain"),
        ({"x5c": "MIIB"}, "BLOB header has no x5c certificate chain"),
        ({"x5c": [17]}, "BLOB x5c[0] is not base64"),
        ({"x5c": ["not base64!"]}, "BLOB x5c[0] is not base64"),
        ({"x5c": [base64.b64encode(b"not a certificate").decode()]}, "BLOB x5c[0] is not a cert"),
        ({"x5c": ["AAAA"] * 6}, "BLOB x5c has 6 certificates, more than 5"),
        ({"crit": ["exp"]}, "BLOB header has critical parameters"),
    ],
)
def test_bad_headers_are_refused(signer: Signer, header: dict[str, object], reason: str) -> None:
    assert refused(signer.sign(small_payload(), header=header), signer).startswith(reason)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[]", "BLOB payload is not a JSON object"),
        (b"{not json", "BLOB payload is not JSON"),
        (b'{"no": NaN}', "BLOB payload is not JSON: NaN is not a JSON number"),
        (b"\xff\xfe", "BLOB payload is not JSON"),
        (b'{"no": 1, "nextUpdate": "2031-07-01", "entries": []}', "metadata has no legalHeader"),
        (json.dumps(payload([], no=True)).encode(), "metadata no True is not a serial number"),
        (json.dumps(payload([], no=-1)).encode(), "metadata no -1 is not a serial number"),
        (json.dumps(payload([], nextUpdate="20310701")).encode(), "metadata nextUpdate '2031"),
        (json.dumps(payload([], nextUpdate="2031-02-30")).encode(), "metadata nextUpdate '2031"),
        (json.dumps(payload([]) | {"entries": {}}).encode(), "metadata entries is not a list"),
        (json.dumps(payload([]) | {"entries": [3]}).encode(), "metadata entry #0 is not an object"),
        (b"[" * 100_000 + b"]" * 100_000, "BLOB payload is not JSON"),
    ],
)
def test_bad_signed_payloads_are_refused(signer: Signer, body: bytes, reason: str) -> None:
    """Even a correctly signed payload must make sense before anything is indexed."""
    assert refused(signer.sign(body), signer).startswith(reason)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda _: b"", "BLOB is not a compact JWS: 1 dot-separated parts"),
        (lambda b: b.rsplit(b".", 1)[0], "BLOB is not a compact JWS: 2 dot-separated parts"),
        (lambda b: b + b".e30", "BLOB is not a compact JWS: 4 dot-separated parts"),
        (lambda b: b[: len(b) // 2], "BLOB is not a compact JWS"),
        (lambda b: b[: len(b) - 10], "BLOB ES256 signature is 57 bytes, not 64"),
        (lambda b: b"." + b.split(b".", 1)[1], "BLOB header is empty"),
        (lambda b: b"e30=" + b[b.index(b".") :], "BLOB header is not base64url"),
        (lambda b: b"eyJ+" + b[b.index(b".") :], "BLOB header is not base64url"),
        (lambda b: b64url(b"alg") + b[b.index(b".") :], "BLOB header is not JSON"),
        (lambda b: b64url(b"[1]") + b[b.index(b".") :], "BLOB header is not a JSON object"),
        (lambda b: b.replace(b".", b".\n", 1), "BLOB signature does not verify"),
        (lambda b: b + b" ", "BLOB signature is not base64url"),
    ],
)
def test_malformed_jws_is_refused(signer: Signer, mangle: object, reason: str) -> None:
    data = mangle(signer.sign(small_payload()))  # type: ignore[operator]
    assert refused(data, signer).startswith(reason)


def test_a_signed_payload_that_is_not_base64url_is_refused(signer: Signer) -> None:
    """The signature is over the text; only then is the payload decoded."""
    head = signer.sign(small_payload()).split(b".")[0]
    signed = head + b".e30*"
    data = signed + b"." + b64url(jws_signature("ES256", signer.leaf, signed))
    assert refused(data, signer) == "BLOB payload is not base64url"


def test_oversized_input_is_refused_before_parsing(signer: Signer) -> None:
    assert "more than the" in refused(b"a" * (64 * 1024 * 1024 + 1), signer)


def test_text_instead_of_bytes_is_refused(signer: Signer) -> None:
    assert refused("a.b.c", signer) == "BLOB must be bytes"  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def small_blob(signer: Signer) -> bytes:
    return signer.sign(small_payload())


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_blobs_are_refused_never_crash(
    signer: Signer, small_blob: bytes, data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(small_blob) - 1))
    mutation = data.draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
    value = bytes([data.draw(st.integers(0, 255))])
    head, tail = small_blob[:position], small_blob[position + 1 :]
    mutated = {
        "replace": head + value + tail,
        "delete": head + tail,
        "insert": head + value + small_blob[position:],
        "truncate": head,
    }[mutation]
    try:
        verify_blob(mutated, root=signer.anchors, at=T0)
    except MetadataRefused:
        return
    assert mutated.rstrip(b"\r\n") == small_blob  # accepted only when nothing signed changed


@settings(max_examples=300, deadline=None)
@given(junk=st.binary(max_size=600) | st.lists(st.binary(max_size=80), max_size=4).map(b".".join))
def test_arbitrary_bytes_are_refused(signer: Signer, junk: bytes) -> None:
    with pytest.raises(MetadataRefused):
        verify_blob(junk, root=signer.anchors, at=T0)
