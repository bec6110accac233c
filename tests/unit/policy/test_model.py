"""Policy as data: the permissive default, immutability, and what needs proof."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from authsvc.policy.model import Policy, unsatisfiable
from tests.unit.policy.factories import YUBIKEY_5_NFC


def test_the_default_requires_nothing() -> None:
    default = Policy.default()
    assert (default.name, default.version) == ("default", 1)
    assert default.user_verification == "preferred"
    assert default.sign_count_regression == "reject"
    assert default.step_up_max_age_seconds == 300
    assert default.max_credentials == 20
    assert default.recovery_codes and default.recovery_links  # recovery is on unless turned off
    assert not default.needs_proof
    assert unsatisfiable(default) == []


def test_a_policy_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Policy.default().version = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    "rules",
    [
        {"require_trusted_attestation": True},
        {"allowed_aaguids": frozenset({YUBIKEY_5_NFC})},
        {"max_false_accept_rate": 1e-6},
        {"modalities": frozenset({"iris"})},
        {"min_certification_level": 3},
    ],
)
def test_rules_that_need_proof(rules: dict[str, Any]) -> None:
    assert Policy(name="p", version=1, **rules).needs_proof


def test_rules_that_need_no_proof() -> None:
    p = Policy(
        name="p",
        version=1,
        user_verification="required",
        attachment="platform",
        denied_aaguids=frozenset({YUBIKEY_5_NFC}),
        device_bound_only=True,
        allowed_algorithms=frozenset({-7}),
    )
    assert not p.needs_proof
