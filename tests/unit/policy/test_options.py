"""Options under a policy: what they must ask for, and requests that can only tighten."""

from __future__ import annotations

from typing import Any

import pytest

from authsvc.policy.model import Policy
from authsvc.policy.options import (
    AssertionHints,
    OptionsHints,
    authentication_hints,
    registration_hints,
    tighten_user_verification,
)
from tests.unit.policy.factories import YUBIKEY_5_NFC


def policy(**rules: Any) -> Policy:
    return Policy(name="test", version=1, **rules)


def test_the_default_policy_asks_for_nothing_special() -> None:
    assert registration_hints(Policy.default()) == OptionsHints(
        user_verification="preferred",
        attachment=None,
        attestation="none",
        hints=(),
        resident_key="preferred",
        algorithms=(-7, -8, -257, -37),
    )
    assert authentication_hints(Policy.default()) == AssertionHints(
        user_verification="preferred", hints=()
    )


@pytest.mark.parametrize(
    "rules",
    [
        {"require_trusted_attestation": True},
        {"allowed_aaguids": frozenset({YUBIKEY_5_NFC})},
        {"max_false_accept_rate": 2e-5},
        {"modalities": frozenset({"face"})},
        {"min_certification_level": 1},
    ],
)
def test_any_rule_that_needs_proof_asks_for_direct_attestation(rules: dict[str, Any]) -> None:
    assert registration_hints(policy(**rules)).attestation == "direct"
    assert registration_hints(policy(**rules), attestation="none").attestation == "direct"


def test_rules_that_need_no_proof_leave_attestation_to_the_caller() -> None:
    p = policy(device_bound_only=True, denied_aaguids=frozenset({YUBIKEY_5_NFC}))
    assert registration_hints(p).attestation == "none"
    assert registration_hints(p, attestation="direct").attestation == "direct"
    assert registration_hints(p, attestation="indirect").attestation == "none"
    assert registration_hints(p, attestation="enterprise").attestation == "none"


@pytest.mark.parametrize(
    ("attachment", "hints"),
    [("platform", ("client-device",)), ("cross-platform", ("security-key",))],
)
def test_attachment_sets_the_hint(attachment: Any, hints: tuple[str, ...]) -> None:
    got = registration_hints(policy(attachment=attachment))
    assert (got.attachment, got.hints) == (attachment, hints)
    assert authentication_hints(policy(attachment=attachment)).hints == hints


def test_a_request_cannot_change_the_policy_attachment() -> None:
    got = registration_hints(policy(attachment="cross-platform"), attachment="platform")
    assert got.attachment == "cross-platform"
    assert registration_hints(Policy.default(), attachment="platform").attachment == "platform"
    assert registration_hints(Policy.default(), attachment="usb").attachment is None


@pytest.mark.parametrize(
    ("policy_uv", "requested", "expected"),
    [
        ("required", "discouraged", "required"),
        ("required", None, "required"),
        ("preferred", "required", "required"),
        ("preferred", "discouraged", "discouraged"),  # "preferred" is no requirement
        ("discouraged", "preferred", "preferred"),
        ("discouraged", None, "discouraged"),
        ("required", "sometimes", "required"),
        ("preferred", "sometimes", "preferred"),  # unknown requests are ignored
    ],
)
def test_user_verification_can_only_be_tightened(
    policy_uv: Any, requested: str | None, expected: str
) -> None:
    p = policy(user_verification=policy_uv)
    assert tighten_user_verification(p, requested) == expected
    assert registration_hints(p, user_verification=requested).user_verification == expected
    assert authentication_hints(p, user_verification=requested).user_verification == expected


def test_a_step_up_always_requires_user_verification() -> None:
    p = policy(user_verification="discouraged")
    assert authentication_hints(p, step_up=True).user_verification == "required"


def test_only_allowed_algorithms_are_offered_in_preference_order() -> None:
    got = registration_hints(policy(allowed_algorithms=frozenset({-37, -7})))
    assert got.algorithms == (-7, -37)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (None, "preferred"),
        ("required", "required"),
        ("discouraged", "discouraged"),
        ("x", "preferred"),
    ],
)
def test_resident_key_follows_the_request(requested: str | None, expected: str) -> None:
    assert registration_hints(Policy.default(), resident_key=requested).resident_key == expected
