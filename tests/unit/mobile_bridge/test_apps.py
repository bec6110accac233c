"""App client values: fingerprints in every documented form, origins, and each refusal."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobile_bridge.apps import (
    MAX_FINGERPRINTS,
    AndroidApp,
    AppClientInvalid,
    IosApp,
    check_name,
    fingerprint_of_origin,
    format_fingerprint,
    origin_of,
    parse_fingerprint,
)

DIGEST = hashlib.sha256(b"a signing certificate").digest()
SLASHY = bytes([0xFB, 0xFF]) * 16  # "+/" in standard base64
digests = st.binary(min_size=32, max_size=32)


@given(digests)
def test_a_fingerprint_round_trips_through_both_forms(fp: bytes) -> None:
    colon = format_fingerprint(fp)
    assert parse_fingerprint(colon) == fp
    assert parse_fingerprint(colon.lower()) == fp
    assert parse_fingerprint(colon.replace(":", "")) == fp
    assert parse_fingerprint(fp.hex()) == fp


@given(digests)
def test_the_colon_form_is_upper_case_pairs(fp: bytes) -> None:
    text = format_fingerprint(fp)
    assert len(text) == 95 and text == text.upper()
    assert all(len(pair) == 2 for pair in text.split(":"))


@given(digests)
def test_an_origin_names_its_fingerprint(fp: bytes) -> None:
    origin = origin_of(fp)
    assert origin.startswith("android:apk-key-hash:")
    assert "=" not in origin
    assert fingerprint_of_origin(origin) == fp


def test_the_origin_is_base64url_of_the_digest_as_credential_manager_writes_it() -> None:
    expected = base64.urlsafe_b64encode(DIGEST).decode().rstrip("=")
    assert origin_of(DIGEST) == f"android:apk-key-hash:{expected}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "AB",
        format_fingerprint(DIGEST)[:-3],  # 31 pairs
        format_fingerprint(DIGEST) + ":00",  # 33 pairs
        format_fingerprint(DIGEST).replace(":", " "),
        format_fingerprint(DIGEST).replace(":", "-"),
        " " + DIGEST.hex(),
        DIGEST.hex() + "\n",
        "SHA256: " + format_fingerprint(DIGEST),
        DIGEST.hex()[:-1] + "g",
        DIGEST.hex() + "00",
        "A:B" + format_fingerprint(DIGEST)[3:],  # pairs split differently
        "\uff21" * 64,  # full-width A: not ASCII hex
        "\u0660" * 64,  # Arabic-Indic zero is a digit, not hex
    ],
)
def test_anything_else_is_no_fingerprint(text: str) -> None:
    with pytest.raises(AppClientInvalid):
        parse_fingerprint(text)


@given(st.text(max_size=120))
def test_parsing_arbitrary_text_either_works_or_refuses(text: str) -> None:
    try:
        fp = parse_fingerprint(text)
    except AppClientInvalid:
        return
    assert len(fp) == 32 and text.replace(":", "").lower() == fp.hex()


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com",
        "android:apk-key-hash:",
        origin_of(DIGEST) + "=",  # padded
        origin_of(DIGEST)[:-1],  # 42 characters: a truncated hash
        origin_of(DIGEST) + "A",
        origin_of(DIGEST).replace("android:", "ANDROID:"),
        "android:apk-key-hash:" + base64.b64encode(SLASHY).decode().rstrip("="),  # not url-safe
    ],
)
def test_other_origins_name_no_fingerprint(origin: str) -> None:
    assert fingerprint_of_origin(origin) is None


def test_only_the_canonical_spelling_of_a_hash_is_its_origin() -> None:
    # 32 zero bytes are "AAAA…AAA" (43); with the unused low bits of the last character
    # set ("…AAB") the text still decodes to the same 32 bytes, but is not the origin
    second = "android:apk-key-hash:" + "A" * 42 + "B"
    assert base64.urlsafe_b64decode(second[21:] + "=") == bytes(32)
    assert fingerprint_of_origin(second) is None
    assert fingerprint_of_origin(origin_of(bytes(32))) == bytes(32)


def test_an_ios_app_id_is_team_dot_bundle() -> None:
    app = IosApp.from_app_id("ABCDE12345.com.example.App-1")
    assert (app.team_id, app.bundle_id, app.app_id) == (
        "ABCDE12345",
        "com.example.App-1",
        "ABCDE12345.com.example.App-1",
    )


@pytest.mark.parametrize(
    "app_id",
    [
        "ABCDE12345",
        "abcde12345.com.example",  # Apple writes team IDs upper case
        "ABCDE1234.com.example",
        "ABCDE123456.com.example",
        "ABCDE12345.",
        "ABCDE12345.com..example",
        "ABCDE12345.com.example.",
        "ABCDE12345.com.ex_ample",
        "ABCDE12345.com.exämple",
        "ABCDE12345.com.example/",
        "ABCDE12345." + "a" * 156,
    ],
)
def test_bad_ios_app_ids_are_refused(app_id: str) -> None:
    with pytest.raises(AppClientInvalid):
        IosApp.from_app_id(app_id)


def test_the_longest_bundle_id_is_accepted() -> None:
    assert len(IosApp("ABCDE12345", "a" * 155).app_id) == 166


def test_an_android_app_has_its_origins() -> None:
    other = hashlib.sha256(b"play signing").digest()
    app = AndroidApp("com.example.app_2", (DIGEST, other))
    assert app.origins == (origin_of(DIGEST), origin_of(other))


@pytest.mark.parametrize(
    "package",
    ["app", "com.", ".com", "com..app", "1com.app", "com.1app", "com.app-x", "com.äpp", "a." * 200],
)
def test_bad_package_names_are_refused(package: str) -> None:
    with pytest.raises(AppClientInvalid):
        AndroidApp(package, (DIGEST,))


@pytest.mark.parametrize(
    "fingerprints",
    [
        (),
        (DIGEST, DIGEST),
        (DIGEST[:31],),
        tuple(bytes([i]) * 32 for i in range(MAX_FINGERPRINTS + 1)),
    ],
)
def test_an_android_app_needs_distinct_sha256_fingerprints(fingerprints: tuple[bytes, ...]) -> None:
    with pytest.raises(AppClientInvalid):
        AndroidApp("com.example.app", fingerprints)


@pytest.mark.parametrize("name", ["", " padded", "a" * 65, "tab\there", "zero\u200bwidth"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(AppClientInvalid):
        check_name(name)


def test_a_name_may_be_any_script() -> None:
    assert check_name("Zürich Bank — Ελληνικά") == "Zürich Bank — Ελληνικά"


def test_format_and_origin_refuse_other_lengths() -> None:
    for wrong in (b"", DIGEST[:20], DIGEST + b"\0"):
        with pytest.raises(AppClientInvalid):
            format_fingerprint(wrong)
        with pytest.raises(AppClientInvalid):
            origin_of(wrong)
