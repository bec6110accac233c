"""Proven versus claimed: only a proven model meets rules that admit, claims may refuse."""

from __future__ import annotations

from typing import Any

import pytest

from authsvc.policy.evaluate import evaluate
from authsvc.policy.facts import COMPROMISED_STATUSES, CredentialFacts
from authsvc.policy.model import Ceremony, Policy
from tests.unit.policy.factories import (
    CERTIFIED_FINGERPRINT,
    YUBIKEY_5_NFC,
    claimed,
    facts,
    metadata,
)

CEREMONIES: tuple[Ceremony, ...] = ("registration", "authentication")


def policy(**rules: Any) -> Policy:
    return Policy(name="test", version=1, **rules)


def codes(p: Policy, f: CredentialFacts, ceremony: Ceremony = "registration") -> tuple[str, ...]:
    return evaluate(p, f, ceremony=ceremony).codes


PROOF_RULES = {
    "allow-list": ({"allowed_aaguids": frozenset({CERTIFIED_FINGERPRINT})}, "aaguid_not_allowed"),
    "far": ({"max_false_accept_rate": 2e-5}, "false_accept_rate_unknown"),
    "modality": ({"modalities": frozenset({"fingerprint"})}, "modality_not_allowed"),
    "certification": ({"min_certification_level": 1}, "certification_too_low"),
}


@pytest.mark.parametrize(("rules", "code"), PROOF_RULES.values(), ids=PROOF_RULES.keys())
@pytest.mark.parametrize("ceremony", CEREMONIES)
def test_a_claimed_aaguid_never_meets_a_rule_that_needs_proof(
    rules: dict[str, Any], code: str, ceremony: Ceremony
) -> None:
    """The claimed model's metadata is excellent (certified, fingerprint, FAR 1e-6): no matter."""
    assert codes(policy(**rules), facts(), ceremony) == ()
    assert codes(policy(**rules), claimed(), ceremony) == ("aaguid_not_proven", code)


def test_a_none_attestation_passkey_claiming_a_certified_model_is_never_treated_as_attested() -> (
    None
):
    strict = policy(
        allowed_aaguids=frozenset({CERTIFIED_FINGERPRINT}),
        max_false_accept_rate=2e-5,
        modalities=frozenset({"fingerprint"}),
        min_certification_level=1,
    )
    assert codes(strict, claimed()) == (
        "aaguid_not_proven",
        "aaguid_not_allowed",
        "certification_too_low",
        "modality_not_allowed",
        "false_accept_rate_unknown",
    )


@pytest.mark.parametrize(
    "unproven",
    [
        facts(aaguid_proven=True, trust="self"),  # inconsistent facts fall on the safe side
        facts(aaguid_proven=False, trust="trusted"),  # a trusted chain that proves no AAGUID
    ],
)
def test_proof_needs_both_a_proven_aaguid_and_a_trusted_chain(unproven: CredentialFacts) -> None:
    assert "aaguid_not_proven" in codes(policy(min_certification_level=1), unproven)


@pytest.mark.parametrize(
    "entry",
    [
        metadata(from_mds=False),  # the community list has names, not signed claims
        metadata(aaguid=YUBIKEY_5_NFC),  # an entry for another model
        None,
    ],
)
def test_metadata_rules_need_a_signed_entry_for_the_proven_aaguid(entry: Any) -> None:
    got = codes(
        policy(max_false_accept_rate=2e-5, min_certification_level=1), facts(metadata=entry)
    )
    assert got == ("certification_too_low", "false_accept_rate_unknown")


def test_an_allow_list_is_met_by_a_proven_aaguid_without_an_mds_entry() -> None:
    """An AAGUID proven by the operator's own root is known even if MDS does not list it."""
    assert (
        codes(policy(allowed_aaguids=frozenset({CERTIFIED_FINGERPRINT})), facts(metadata=None))
        == ()
    )


@pytest.mark.parametrize("who", [facts, claimed])
def test_a_denied_aaguid_refuses_proven_and_claimed(who: Any) -> None:
    assert codes(policy(denied_aaguids=frozenset({CERTIFIED_FINGERPRINT})), who()) == (
        "aaguid_denied",
    )


@pytest.mark.parametrize("status", sorted(COMPROMISED_STATUSES))
@pytest.mark.parametrize("who", [facts, claimed])
def test_a_compromised_model_is_refused_under_every_policy(status: str, who: Any) -> None:
    entry = metadata(statuses=("FIDO_CERTIFIED_L1", status), latest_status=status)
    decision = evaluate(Policy.default(), who(metadata=entry), ceremony="authentication")
    assert decision.codes == ("authenticator_compromised",)
    assert status in decision.reasons[0].message


def test_a_compromise_in_any_past_report_still_refuses() -> None:
    """A later FIDO_CERTIFIED may concern new firmware; we cannot tell which one this is."""
    entry = metadata(
        statuses=("FIDO_CERTIFIED_L1", "USER_VERIFICATION_BYPASS", "UPDATE_AVAILABLE"),
        latest_status="UPDATE_AVAILABLE",
    )
    assert codes(Policy.default(), facts(metadata=entry)) == ("authenticator_compromised",)
    latest_only = metadata(statuses=(), latest_status="REVOKED")
    assert codes(Policy.default(), facts(metadata=latest_only)) == ("authenticator_compromised",)
