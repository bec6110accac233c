"""The imaginary credentials of :mod:`authsvc.services.decoys`: pure, so tested without HTTP."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from typing import Any

from authsvc.encoding import b64url_decode
from authsvc.services.decoys import PROFILES, Decoys, derive_key
from tests.shared import Vector, load_vectors

SECRET = "unit-secret-key-0123456789"


def _recorded_transports(response: dict[str, Any]) -> list[str] | None:
    """``transports`` where a capture kept it: in ``response``, or at the top (older ones)."""
    inner = response.get("response")
    if isinstance(inner, dict) and "transports" in inner:
        found: list[str] = inner["transports"]
        return found
    top: list[str] | None = response.get("transports")
    return top


def test_profiles_are_the_shared_vectors_that_record_transports() -> None:
    recorded: list[tuple[int, tuple[str, ...]]] = []
    vector: Vector
    for vector in load_vectors():
        if vector.name.startswith("neg-"):
            continue
        response = vector.data["response"]
        transports = _recorded_transports(response)
        if transports is not None:
            raw_id = b64url_decode(response["rawId"], field="rawId")
            recorded.append((len(raw_id), tuple(transports)))
    assert sorted(recorded) == sorted(PROFILES)


def test_the_key_is_derived_for_this_use_and_is_not_the_secret() -> None:
    key = derive_key(SECRET)
    assert len(key) == 32 and SECRET.encode() not in key
    cookie_like = hmac.new(SECRET.encode(), b"cookie-session", hashlib.sha256).digest()
    assert key != cookie_like
    assert derive_key(SECRET) == key and derive_key(SECRET + "x") != key


def test_lists_are_stable_distinct_and_shaped_like_the_profiles() -> None:
    decoys, other = Decoys.from_secret(SECRET), Decoys.from_secret(SECRET + "-other")
    seen_ids: set[bytes] = set()
    for index in range(200):
        name = f"user-{index}"
        listed = decoys.for_username(name)
        assert listed == decoys.for_username(name)
        assert listed != other.for_username(name)
        for credential in listed:
            assert (len(credential.credential_id), credential.transports) in PROFILES
            assert credential.credential_id not in seen_ids
            seen_ids.add(credential.credential_id)


def test_list_lengths_follow_the_chosen_weights() -> None:
    """1, 2 or 3 passkeys in the proportions 9 : 5 : 2 (of 16), over many usernames."""
    decoys = Decoys.from_secret(SECRET)
    total = 8192
    counts = Counter(len(decoys.for_username(f"name-{i}")) for i in range(total))
    assert set(counts) == {1, 2, 3}
    for length, weight in ((1, 9), (2, 5), (3, 2)):
        assert abs(counts[length] / total - weight / 16) < 0.02, counts


def test_every_profile_is_drawn() -> None:
    decoys = Decoys.from_secret(SECRET)
    drawn = Counter(
        (len(c.credential_id), c.transports)
        for i in range(2000)
        for c in decoys.for_username(f"p-{i}")
    )
    assert set(drawn) == set(PROFILES)
