"""Pending ceremony state: round-trips through storage, and is checked before use."""

from __future__ import annotations

import pytest

from authsvc.ceremony.state import CeremonyKind, PendingCeremony, ceremony_id, new_challenge
from authsvc.errors import ChallengeExpired, ChallengeUnknown


def _pending(**changes: object) -> PendingCeremony:
    values: dict[str, object] = {
        "id": ceremony_id(CeremonyKind.AUTHENTICATION, "b1"),
        "kind": CeremonyKind.AUTHENTICATION,
        "challenge": new_challenge(),
        "rp_id": "localhost",
        "user_verification": "required",
        "binding": "b1",
        "expires_at": 1000.0,
        "user_id": 7,
        "allowed_credentials": (b"\x01\x02", b"\x03"),
    }
    values.update(changes)
    return PendingCeremony(**values)  # type: ignore[arg-type]


def test_json_round_trip() -> None:
    pending = _pending(user_handle=b"\xff" * 32, username="ada", algorithms=(-7, -8))
    assert PendingCeremony.from_json(pending.to_json()) == pending
    assert len(pending.challenge) == 32


def test_challenges_are_random() -> None:
    assert len({new_challenge() for _ in range(100)}) == 100


def test_ceremony_ids_are_one_per_session_and_kind() -> None:
    registration, authentication = CeremonyKind.REGISTRATION, CeremonyKind.AUTHENTICATION
    assert ceremony_id(authentication, "b1") == ceremony_id(authentication, "b1")
    ids = {ceremony_id(k, b) for k in (registration, authentication) for b in ("b1", "b2")}
    assert len(ids) == 4
    assert all(len(i) == 64 for i in ids)  # fits the challenges.id column


def test_usable_only_by_its_kind_and_session_before_expiry() -> None:
    pending = _pending()
    pending.check_usable(kind=CeremonyKind.AUTHENTICATION, binding="b1", now=999.0)
    with pytest.raises(ChallengeUnknown):
        pending.check_usable(kind=CeremonyKind.REGISTRATION, binding="b1", now=999.0)
    with pytest.raises(ChallengeUnknown):
        pending.check_usable(kind=CeremonyKind.AUTHENTICATION, binding="b2", now=999.0)
    with pytest.raises(ChallengeExpired):
        pending.check_usable(kind=CeremonyKind.AUTHENTICATION, binding="b1", now=1000.0)
