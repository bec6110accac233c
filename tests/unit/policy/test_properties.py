"""Properties over random policies, facts and documents."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from authsvc.policy.document import FIELDS, parse_policy, policy_document
from authsvc.policy.errors import PolicyInvalid
from authsvc.policy.evaluate import ReasonCode, evaluate
from authsvc.policy.facts import CredentialFacts
from authsvc.policy.model import Ceremony, Policy
from tests.unit.policy.strategies import (
    any_facts,
    any_policies,
    json_values,
    valid_policies,
)

ceremonies = st.sampled_from(["registration", "authentication"])
ORDER = list(ReasonCode)


@settings(max_examples=400)
@given(any_policies, any_facts, ceremonies)
def test_evaluate_never_raises_and_allowed_means_no_reasons(
    policy: Policy, facts: CredentialFacts, ceremony: Ceremony
) -> None:
    decision = evaluate(policy, facts, ceremony=ceremony)
    assert decision.allowed == (decision.reasons == ())
    ranks = [ORDER.index(ReasonCode(r.code)) for r in decision.reasons]
    assert ranks == sorted(set(ranks))  # known codes, each once, in order
    assert all(r.message for r in decision.reasons)
    assert evaluate(policy, facts, ceremony=ceremony) == decision  # deterministic


@given(any_policies, any_facts, ceremonies)
def test_a_claim_never_meets_a_rule_that_needs_proof(
    policy: Policy, facts: CredentialFacts, ceremony: Ceremony
) -> None:
    decision = evaluate(policy, facts, ceremony=ceremony)
    proof_rules = (
        policy.allowed_aaguids is not None
        or policy.max_false_accept_rate is not None
        or policy.modalities is not None
        or policy.min_certification_level > 0
    )
    if proof_rules and not (facts.aaguid_proven and facts.trust == "trusted"):
        assert not decision.allowed
        assert "aaguid_not_proven" in decision.codes


@given(valid_policies)
def test_documents_round_trip_through_json(policy: Policy) -> None:
    document = policy_document(policy)
    assert tuple(document) == FIELDS
    text = json.dumps(document)
    again = parse_policy(json.loads(text), name=policy.name, version=policy.version)
    assert again == policy
    assert json.dumps(policy_document(again)) == text


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_values, max_size=6))
def test_any_document_parses_or_is_refused_with_problems(doc: dict[str, object]) -> None:
    result = _parse(doc)
    if isinstance(result, PolicyInvalid):
        assert result.problems
        assert all(isinstance(p, str) and p for p in result.problems)
    else:
        assert parse_policy(policy_document(result), name="fuzz", version=1) == result


def _parse(doc: object) -> Policy | PolicyInvalid:
    try:
        return parse_policy(doc, name="fuzz", version=1)
    except PolicyInvalid as exc:
        return exc
