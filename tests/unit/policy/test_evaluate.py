"""evaluate(): every rule accepting and refusing, and proof versus claims."""

from __future__ import annotations

from typing import Any

import pytest

from authsvc.policy.evaluate import Decision, Reason, ReasonCode, evaluate, step_up_fresh
from authsvc.policy.facts import CredentialFacts
from authsvc.policy.model import Ceremony, Policy
from tests.unit.policy.factories import (
    CERTIFIED_FINGERPRINT,
    YUBIKEY_5_NFC,
    claimed,
    excelsecu,
    facts,
    metadata,
    yubikey,
)

CEREMONIES: tuple[Ceremony, ...] = ("registration", "authentication")


def policy(**rules: Any) -> Policy:
    return Policy(name="test", version=1, **rules)


def codes(p: Policy, f: CredentialFacts, ceremony: Ceremony = "registration") -> tuple[str, ...]:
    decision = evaluate(p, f, ceremony=ceremony)
    assert decision.allowed == (decision.reasons == ())
    return decision.codes


@pytest.mark.parametrize("ceremony", CEREMONIES)
def test_default_policy_accepts_even_the_weakest_credential(ceremony: Ceremony) -> None:
    weakest = claimed(
        attachment=None, backup_eligible=True, user_verified=False, algorithm=-257, metadata=None
    )
    assert evaluate(Policy.default(), weakest, ceremony=ceremony) == Decision(allowed=True)
    assert codes(Policy.default(), facts(), ceremony) == ()


# (rules, facts that meet them, facts that do not, the code of the refusal)
RULES: list[tuple[str, dict[str, Any], CredentialFacts, CredentialFacts, str]] = [
    (
        "uv",
        {"user_verification": "required"},
        facts(),
        facts(user_verified=False),
        "user_verification_required",
    ),
    (
        "platform",
        {"attachment": "platform"},
        facts(attachment="platform"),
        facts(attachment="cross-platform"),
        "attachment_not_allowed",
    ),
    (
        "attachment unstated",
        {"attachment": "cross-platform"},
        facts(attachment="cross-platform"),
        facts(attachment=None),
        "attachment_not_allowed",
    ),
    (
        "trusted attestation",
        {"require_trusted_attestation": True},
        facts(),
        facts(trust="self", aaguid_proven=False),
        "attestation_not_trusted",
    ),
    (
        "untrusted chain",
        {"require_trusted_attestation": True},
        facts(),
        facts(trust="untrusted", aaguid_proven=False),
        "attestation_not_trusted",
    ),
    (
        "allow-list",
        {"allowed_aaguids": frozenset({CERTIFIED_FINGERPRINT})},
        facts(),
        yubikey(),
        "aaguid_not_allowed",
    ),
    (
        "deny-list",
        {"denied_aaguids": frozenset({YUBIKEY_5_NFC})},
        facts(),
        yubikey(),
        "aaguid_denied",
    ),
    (
        "device-bound",
        {"device_bound_only": True},
        facts(),
        facts(backup_eligible=True),
        "backup_eligible_not_allowed",
    ),
    (
        "far",
        {"max_false_accept_rate": 2e-5},
        facts(),
        excelsecu(),
        "false_accept_rate_too_high",
    ),
    (
        "far unknown",
        {"max_false_accept_rate": 2e-5},
        facts(),
        yubikey(),
        "false_accept_rate_unknown",
    ),
    (
        "modality",
        {"modalities": frozenset({"face", "fingerprint"})},
        facts(),
        facts(metadata=metadata(modalities=frozenset({"passcode", "presence"}))),
        "modality_not_allowed",
    ),
    (
        "certification",
        {"min_certification_level": 1},
        facts(),
        facts(metadata=metadata(certification_level=0, statuses=("NOT_FIDO_CERTIFIED",))),
        "certification_too_low",
    ),
    (
        "algorithm",
        {"allowed_algorithms": frozenset({-7, -257})},
        facts(),
        facts(algorithm=-8),
        "algorithm_not_allowed",
    ),
]


@pytest.mark.parametrize("ceremony", CEREMONIES)
@pytest.mark.parametrize(
    ("rules", "good", "bad", "code"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_each_rule_accepts_and_refuses_with_its_code(
    rules: dict[str, Any],
    good: CredentialFacts,
    bad: CredentialFacts,
    code: str,
    ceremony: Ceremony,
) -> None:
    assert codes(policy(**rules), good, ceremony) == ()
    assert code in codes(policy(**rules), bad, ceremony)
    assert codes(Policy.default(), bad, ceremony) == ()  # it is the rule that refuses


@pytest.mark.parametrize("uv", ["preferred", "discouraged"])
def test_only_required_user_verification_refuses(uv: str) -> None:
    assert codes(policy(user_verification=uv), facts(user_verified=False)) == ()


def test_far_equal_to_the_maximum_is_accepted() -> None:
    assert codes(policy(max_false_accept_rate=1e-6), facts()) == ()
    assert codes(policy(max_false_accept_rate=9e-7), facts()) == ("false_accept_rate_too_high",)


def test_excelsecu_worst_far_is_judged_not_its_best() -> None:
    """Its descriptors say 1e-05 and 0.01; 0.01 is 500 times the 2e-5 maximum."""
    decision = evaluate(policy(max_false_accept_rate=2e-5), excelsecu(), ceremony="registration")
    assert decision.codes == ("false_accept_rate_too_high",)
    assert "0.01" in decision.reasons[0].message


def test_every_failing_rule_is_reported_in_reason_code_order() -> None:
    everything = policy(
        user_verification="required",
        attachment="platform",
        require_trusted_attestation=True,
        allowed_aaguids=frozenset({YUBIKEY_5_NFC}),
        denied_aaguids=frozenset({CERTIFIED_FINGERPRINT}),
        device_bound_only=True,
        max_false_accept_rate=1e-7,
        modalities=frozenset({"face"}),
        min_certification_level=2,
        allowed_algorithms=frozenset({-7}),
    )
    worst = claimed(
        attachment=None,
        backup_eligible=True,
        algorithm=-257,
        user_verified=False,
        metadata=metadata(latest_status="REVOKED"),
    )
    expected = tuple(c.value for c in ReasonCode if c != "false_accept_rate_too_high")
    assert codes(everything, worst) == expected
    assert codes(everything, worst, "authentication") == expected


def test_reasons_are_codes_and_readable_messages() -> None:
    decision = evaluate(
        policy(user_verification="required"), facts(user_verified=False), ceremony="authentication"
    )
    assert decision == Decision(
        allowed=False,
        reasons=(Reason("user_verification_required", "the user was not verified at sign-in"),),
    )
    assert isinstance(decision.reasons[0].code, str)


def test_a_decision_cannot_be_allowed_with_reasons() -> None:
    with pytest.raises(ValueError, match="no reasons"):
        Decision(allowed=True, reasons=(Reason("x", "y"),))
    with pytest.raises(ValueError, match="no reasons"):
        Decision(allowed=False)


def test_an_unknown_ceremony_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="ceremony"):
        evaluate(Policy.default(), facts(), ceremony="login")  # type: ignore[arg-type]


@pytest.mark.parametrize(("age", "fresh"), [(0, True), (300, True), (300.5, False), (-1, False)])
def test_step_up_freshness(age: float, fresh: bool) -> None:
    assert step_up_fresh(Policy.default(), age_seconds=age) is fresh
    assert step_up_fresh(policy(step_up_max_age_seconds=600), age_seconds=age) is (age >= 0)
