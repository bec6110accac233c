"""The RFC 8265 UsernameCaseMapped form: look-alikes fold together, the rest is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authsvc.errors import Malformed
from authsvc.usernames import MAX_USERNAME_CHARS, canonical

FULL_WIDTH_F = "\uff26"


@pytest.mark.parametrize("typed", ["fold-x", "Fold-x", "FOLD-x", f"{FULL_WIDTH_F}old-x"])
def test_the_four_look_alikes_are_one_name(typed: str) -> None:
    assert canonical(typed) == "fold-x"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("\uff21\uff24\uff21", "ada"),  # all full width
        ("\u212aelvin", "kelvin"),  # KELVIN SIGN
        ("\u0391\u0394\u0391", "\u03b1\u03b4\u03b1"),  # Greek capitals
        ("\u0410\u0434\u0430", "\u0430\u0434\u0430"),  # Cyrillic capital A
        ("e\u0301", "\u00e9"),  # NFC: e + combining acute is the precomposed letter
        ("\u1e9e", "\u00df"),  # capital sharp s lowers to sharp s (toLower, not case folding)
        ("alice@example.com", "alice@example.com"),  # printable ASCII is allowed
    ],
)
def test_width_case_and_normalisation(typed: str, expected: str) -> None:
    assert canonical(typed) == expected


def test_mixed_scripts_are_not_confusable_folded() -> None:
    """RFC 8265 folds width and case, not scripts: a Cyrillic a stays its own name.

    Cross-script confusables (UTS #39) are outside the profile; the name is accepted and
    distinct: `ada` spelt with a Cyrillic first letter is another account than `ada`.
    """
    mixed = "\u0430da"
    assert canonical(mixed) == mixed
    assert canonical(mixed) != canonical("ada")
    assert canonical("\u0410\u0414\u0410") == canonical("\u0430\u0434\u0430")


def test_right_to_left_names_follow_the_bidi_rule() -> None:
    assert canonical("\u05d0\u05d1\u05d2123") == "\u05d0\u05d1\u05d2123"  # Hebrew + digits
    with pytest.raises(Malformed, match="Bidi"):
        canonical("abc\u05d0\u05d1\u05d2")  # left-to-right and right-to-left mixed


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("fold x", "spaces"),
        ("fold\u3000x", "compatibility"),  # ideographic space
        ("fold\u00a0x", "compatibility"),  # no-break space
        ("ada\x00", "control"),
        ("ada\x1b", "control"),
        ("a\u200bb", "invisible"),  # zero width space
        ("\u202eada", "invisible"),  # right-to-left override
        ("a\u200db", "character"),  # zero width joiner outside its context
        ("user\U0001f600", "symbols"),  # emoji
        ("\u20acuro", "symbols"),
        ("\u00abada\u00bb", "punctuation"),
        ("\ufb01le", "compatibility"),  # fi ligature
        ("\u216b", "compatibility"),  # Roman numeral twelve
        ("\u01c5", "compatibility"),  # Dz digraph, title case
        ("x\u0378", "assigned"),  # unassigned
        ("\ud800", "character"),  # lone surrogate
        ("\U000f0000", "character"),  # private use
    ],
)
def test_what_the_profile_disallows_is_malformed(typed: str, reason: str) -> None:
    with pytest.raises(Malformed) as err:
        canonical(typed)
    assert reason in err.value.detail
    assert err.value.detail.startswith("username ")
    if typed:
        assert typed not in err.value.detail  # never echoes the input


def test_the_field_is_named_in_the_detail() -> None:
    with pytest.raises(Malformed, match=r"^login must not contain spaces$"):
        canonical("a b", field="login")


def test_length_is_limited_as_typed_and_as_folded() -> None:
    assert canonical("x" * MAX_USERNAME_CHARS) == "x" * MAX_USERNAME_CHARS
    with pytest.raises(Malformed, match=r"longer than 64 characters$"):
        canonical("x" * (MAX_USERNAME_CHARS + 1))
    # CAPITAL I WITH DOT ABOVE lowers to two code points: 32 fit, 33 do not
    assert len(canonical("\u0130" * 32)) == MAX_USERNAME_CHARS
    with pytest.raises(Malformed, match="once lower-cased"):
        canonical("\u0130" * 33)


# Letters the profile takes from many scripts, in both cases and widths, with ASCII
# punctuation, digits and combining marks: most draws are usernames, so the property
# below is about accepted names, not about refusals.
_NAME_CHARS = st.one_of(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E),
    st.characters(min_codepoint=0xFF21, max_codepoint=0xFF5A),  # full-width Latin
    st.characters(categories=("Lu", "Ll", "Nd"), max_codepoint=0x052F),  # Latin/Greek/Cyrillic
    st.sampled_from(["\u0130", "\u212a", "\u1e9e", "\u0301", "\u0308", "\u00df"]),
)


@given(st.text(_NAME_CHARS, min_size=1, max_size=MAX_USERNAME_CHARS))
def test_canonical_is_idempotent(typed: str) -> None:
    try:
        once = canonical(typed)
    except Malformed:
        return  # refused names have no canonical form to be stable
    assert canonical(once) == once


_ASCII_NAMES = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64
)


@given(_ASCII_NAMES)
def test_ascii_names_fold_to_lower_case_in_any_case_or_width(typed: str) -> None:
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in typed)  # U+FF01..U+FF5E
    assert canonical(typed) == typed.lower()
    assert canonical(typed.upper()) == canonical(typed.swapcase()) == canonical(full_width)


@given(st.text(max_size=80))
def test_any_text_is_a_canonical_name_or_malformed(typed: str) -> None:
    try:
        value = canonical(typed)
    except Malformed:
        return  # refused with the problem code; anything else would fail the test
    assert 0 < len(value) <= MAX_USERNAME_CHARS
    assert canonical(value) == value
