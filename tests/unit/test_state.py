"""Pending ceremony state: round-trips through storage, and is checked before use."""

from __future__ import annotations

import pytest

from authsvc.ceremony.state import CeremonyKind, PendingCeremony, new_ceremony_id, new_challenge
from authsvc.errors import ChallengeExpired, ChallengeUnknown


def _pending(**changes: object) -> PendingCeremony:
    values: dict[str, object] = {
        "id": new_ceremony_id(),
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


def test_challenges_and_ids_are_random() -> None:
    assert len({new_challenge() for _ in range(100)}) == 100
    assert len({new_ceremony_id() for _ in range(100)}) == 100


def test_usable_only_by_its_kind_and_session_before_expiry() -> None:
    pending = _pending()
    pending.check_usable(kind=CeremonyKind.AUTHENTICATION, binding="b1", now=999.0)
    with pytest.raises(ChallengeUnknown):
        pending.check_usable(kind=CeremonyKind.REGISTRATION, binding="b1", now=999.0)
    with pytest.raises(ChallengeUnknown):
        pending.check_usable(kind=CeremonyKind.AUTHENTICATION, binding="b2", now=999.0)
    with pytest.raises(ChallengeExpired):
        pending.check_usable(kind=CeremonyKind.AUTHENTICATION, binding="b1", now=1000.0)
