"""When two usernames are the same: their RFC 8265 UsernameCaseMapped form.

``Fold-x``, ``FOLD-x`` and ``Fold-x`` with a full-width F (U+FF26) look like one name to a
person, so they must be one account: otherwise an attacker registers a look-alike of
someone's name and is mistaken for them. RFC 8265's UsernameCaseMapped profile says which
strings are usernames at all and what one canonical form each has: width mapping
(full-width to ASCII), lower case (Unicode ``toLower``), NFC, the directionality (Bidi)
rule, and only the code points of the PRECIS IdentifierClass (letters, digits, printable
ASCII; no spaces, non-ASCII symbols, controls or invisible characters). precis-i18n
implements it; this module only turns its refusals into :class:`~authsvc.errors.Malformed`.

Decisions, so that every caller makes the same ones:

* **Spaces** are refused, as the profile does; RFC 8265 §3.5 would let an application
  split on them and join the parts, but a name with spaces brings back look-alikes (one
  space or two, which space) for little gain.
* **Length**: at most :data:`MAX_USERNAME_CHARS` characters both as typed and in the
  canonical form. Lower-casing can lengthen a name (``İ`` becomes ``i`` + a combining dot),
  and both forms are stored, in columns of that size.
* The username is **shown as typed** (by the registration that created the account); only
  the canonical form is compared and carries the unique index. The display name is not a
  username and keeps its own, looser rules (:mod:`authsvc.web.schemas`).

The canonical form depends on precis-i18n and on the Unicode version of Python's
``unicodedata``; migration ``0004`` stored it for every existing row with the same call.
A change to it (another profile, a release that maps differently) needs a new revision
that refolds ``users.username_canonical``, or existing users stop being found.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from precis_i18n import get_profile

from authsvc.errors import Malformed

MAX_USERNAME_CHARS: Final = 64
PROFILE_NAME: Final = "UsernameCaseMapped"

# Built once: get_profile constructs a new profile (and its code point tables) per call.
_PROFILE: Final = get_profile(PROFILE_NAME)

# precis-i18n's reasons ("DISALLOWED/spaces", ...) named for people. Each detail names the
# rule that failed and where, never the text itself: it is attacker-chosen.
_REASONS: Final = {
    "DISALLOWED/spaces": "must not contain spaces",
    "DISALLOWED/empty": "must not be empty",
    "DISALLOWED/controls": "must not contain control characters",
    "DISALLOWED/bidi_rule": "mixes right-to-left and left-to-right text (RFC 5893 Bidi rule)",
    "DISALLOWED/precis_ignorable_properties": "must not contain invisible characters",
    "DISALLOWED/symbols": "must not contain symbols or emoji beyond ASCII",
    "DISALLOWED/punctuation": "must not contain punctuation beyond ASCII",
    "DISALLOWED/has_compat": (
        "must not contain compatibility characters (special spaces, ligatures, Roman "
        "numerals, styled letters)"
    ),
    "DISALLOWED/unassigned": "contains a code point Unicode has not assigned",
    "DISALLOWED/not_idempotent": "has no stable canonical form",
}


def canonical(username: str, *, field: str = "username") -> str:
    """The RFC 8265 UsernameCaseMapped form of ``username``, or :class:`Malformed`.

    ``field`` names the input in the error detail (the JSON member, say). The result is
    what accounts are looked up and kept unique by; ``canonical(canonical(x)) ==
    canonical(x)`` for every accepted ``x``.
    """
    if len(username) > MAX_USERNAME_CHARS:  # before the profile: bound its work
        raise Malformed(f"{field} is longer than {MAX_USERNAME_CHARS} characters")
    try:
        value = _enforce(username)
    except UnicodeEncodeError as exc:
        raise Malformed(_refusal(field, exc)) from exc
    if len(value) > MAX_USERNAME_CHARS:
        raise Malformed(f"{field} is longer than {MAX_USERNAME_CHARS} characters once lower-cased")
    return value


@lru_cache(maxsize=4096)
def _enforce(username: str) -> str:
    """The profile, cached: it costs 15-190 µs a name, and one sign-in folds its name in the
    schema, the repository and the rate limiter (a refusal raises, so it is not cached)."""
    value: str = _PROFILE.enforce(username)
    return value


def _refusal(field: str, exc: UnicodeEncodeError) -> str:
    reason = _REASONS.get(exc.reason)
    if reason is not None:
        return f"{field} {reason}"
    kind = exc.reason.removeprefix("DISALLOWED/").replace("_", " ")
    return (
        f"{field} has a character that usernames may not contain ({kind}); RFC 8265 "
        "usernames are letters, digits and printable ASCII, without spaces"
    )
