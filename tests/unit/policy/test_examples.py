"""The example policies parse, and decide as their comments say."""

from __future__ import annotations

import json

import pytest

from authsvc.policy.document import parse_policy, policy_document
from authsvc.policy.evaluate import evaluate
from authsvc.policy.examples import EXAMPLES
from authsvc.policy.model import Policy
from tests.unit.policy.factories import YUBIKEY_5_NFC, claimed, excelsecu, facts, metadata, yubikey


def example(name: str) -> Policy:
    return parse_policy(json.loads(EXAMPLES[name]), name=name, version=1)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_parses_and_round_trips(name: str) -> None:
    policy = example(name)
    assert parse_policy(policy_document(policy), name=name, version=1) == policy


def codes(name: str, **f: object) -> tuple[str, ...]:
    return evaluate(example(name), facts(**f), ceremony="registration").codes


def test_staff() -> None:
    staff = example("staff")
    assert evaluate(staff, facts(), ceremony="registration").allowed
    assert evaluate(staff, excelsecu(), ceremony="registration").codes == (
        "false_accept_rate_too_high",
    )
    assert evaluate(staff, yubikey(), ceremony="registration").codes == (
        "false_accept_rate_unknown",
    )
    assert codes("staff", backup_eligible=True) == ("backup_eligible_not_allowed",)
    assert staff.sign_count_regression == "lock"


def test_customers_accept_any_synced_passkey_that_verifies_the_user() -> None:
    synced = claimed(attachment="platform", backup_eligible=True, metadata=None)
    assert evaluate(example("customers"), synced, ceremony="authentication").allowed
    unverified = claimed(user_verified=False)
    assert evaluate(example("customers"), unverified, ceremony="authentication").codes == (
        "user_verification_required",
    )


def test_high_assurance_face() -> None:
    face = metadata(modalities=frozenset({"face"}), worst_far=1e-6)
    assert codes("high-assurance-face", metadata=face) == ()
    assert codes("high-assurance-face") == ("modality_not_allowed",)
    too_weak = metadata(modalities=frozenset({"face"}), worst_far=1e-5)
    assert codes("high-assurance-face", metadata=too_weak) == ("false_accept_rate_too_high",)


def test_security_keys_only() -> None:
    assert evaluate(example("security-keys-only"), yubikey(), ceremony="registration").allowed
    pretender = claimed(aaguid=YUBIKEY_5_NFC, metadata=yubikey().metadata)
    assert evaluate(example("security-keys-only"), pretender, ceremony="registration").codes == (
        "attestation_not_trusted",
        "aaguid_not_proven",
        "aaguid_not_allowed",
    )
    assert codes("security-keys-only", attachment="platform") == (
        "aaguid_not_allowed",
        "attachment_not_allowed",
    )
