"""parse_policy(): hostile documents are refused with readable problems; valid ones round-trip."""

from __future__ import annotations

import json

import pytest

from authsvc.errors import AuthError
from authsvc.policy.document import FIELDS, MAX_AAGUIDS, MAX_PROBLEMS, parse_policy, policy_document
from authsvc.policy.errors import PolicyInvalid
from authsvc.policy.model import Policy
from tests.unit.policy.factories import CERTIFIED_FINGERPRINT, NIL, YUBIKEY_5_NFC


def problems(doc: object, *, name: object = "staff", version: object = 1) -> list[str]:
    with pytest.raises(PolicyInvalid) as err:
        parse_policy(doc, name=name, version=version)  # type: ignore[arg-type]
    assert str(err.value) == "; ".join(err.value.problems)
    return err.value.problems


def test_an_empty_document_is_the_default_policy() -> None:
    assert parse_policy({}, name="default", version=1) == Policy.default()


def test_a_full_document_sets_every_rule() -> None:
    doc = {
        "user_verification": "required",
        "attachment": "cross-platform",
        "require_trusted_attestation": True,
        "allowed_aaguids": [YUBIKEY_5_NFC.upper()],
        "denied_aaguids": [NIL],
        "device_bound_only": True,
        "max_false_accept_rate": 2e-5,
        "modalities": ["fingerprint", "face"],
        "min_certification_level": 2,
        "allowed_algorithms": [-8, -7],
        "sign_count_regression": "lock",
        "step_up_max_age_seconds": 60,
        "max_credentials": 5,
        "recovery_codes": False,
        "recovery_links": False,
    }
    assert parse_policy(doc, name="staff", version=3) == Policy(
        name="staff",
        version=3,
        user_verification="required",
        attachment="cross-platform",
        require_trusted_attestation=True,
        allowed_aaguids=frozenset({YUBIKEY_5_NFC}),  # normalised to lowercase
        denied_aaguids=frozenset({NIL}),
        device_bound_only=True,
        max_false_accept_rate=2e-5,
        modalities=frozenset({"fingerprint", "face"}),
        min_certification_level=2,
        allowed_algorithms=frozenset({-8, -7}),
        sign_count_regression="lock",
        step_up_max_age_seconds=60,
        max_credentials=5,
        recovery_codes=False,
        recovery_links=False,
    )


@pytest.mark.parametrize(
    "field",
    ["attachment", "allowed_aaguids", "max_false_accept_rate", "modalities", "allowed_algorithms"],
)
def test_null_means_no_requirement_where_a_rule_is_optional(field: str) -> None:
    assert parse_policy({field: None}, name="default", version=1) == Policy.default()


HOSTILE: dict[str, tuple[object, str]] = {
    # wrong types, including bool for int and int for bool
    "bool for certification": (
        {"min_certification_level": True},
        "min_certification_level must be an integer",
    ),
    "bool for step-up": (
        {"step_up_max_age_seconds": False},
        "step_up_max_age_seconds must be an integer",
    ),
    "string for int": ({"min_certification_level": "1"}, "must be an integer"),
    "fraction for int": ({"step_up_max_age_seconds": 60.0}, "must be an integer"),
    "int for bool": ({"device_bound_only": 1}, "device_bound_only must be true or false"),
    "string for bool": ({"require_trusted_attestation": "true"}, "must be true or false"),
    "bool for far": (
        {"max_false_accept_rate": True},
        "max_false_accept_rate must be null or a number",
    ),
    "string for far": ({"max_false_accept_rate": "2e-5"}, "must be null or a number"),
    "bool algorithm": ({"allowed_algorithms": [True]}, "allowed_algorithms[0] must be a supported"),
    "float algorithm": (
        {"allowed_algorithms": [-7.0]},
        "allowed_algorithms[0] must be a supported",
    ),
    "string for list": ({"allowed_aaguids": YUBIKEY_5_NFC}, "allowed_aaguids must be a list"),
    "object for list": ({"modalities": {"face": True}}, "modalities must be a list"),
    "null deny-list": ({"denied_aaguids": None}, "denied_aaguids must be a list"),
    "null uv": ({"user_verification": None}, "user_verification must be one of"),
    # values out of their sets or ranges
    "uv case": ({"user_verification": "REQUIRED"}, "user_verification must be one of"),
    "attachment": ({"attachment": "usb"}, "attachment must be null or one of"),
    "sign count": ({"sign_count_regression": "ignore"}, "sign_count_regression must be one of"),
    "far zero": ({"max_false_accept_rate": 0.0}, "greater than 0 and less than 1"),
    "far one": ({"max_false_accept_rate": 1}, "greater than 0 and less than 1"),
    "far negative": ({"max_false_accept_rate": -2e-5}, "greater than 0 and less than 1"),
    "far nan": ({"max_false_accept_rate": float("nan")}, "greater than 0 and less than 1"),
    "far infinite": ({"max_false_accept_rate": float("inf")}, "greater than 0 and less than 1"),
    "far huge int": ({"max_false_accept_rate": 10**400}, "greater than 0 and less than 1"),
    "certification 4": ({"min_certification_level": 4}, "between 0 and 3"),
    "certification -1": ({"min_certification_level": -1}, "between 0 and 3"),
    "step-up short": ({"step_up_max_age_seconds": 9}, "between 10 and 86400"),
    "step-up long": ({"step_up_max_age_seconds": 86_401}, "between 10 and 86400"),
    "no passkeys at all": ({"max_credentials": 0}, "max_credentials must be between 1 and 100"),
    "too many passkeys": ({"max_credentials": 101}, "max_credentials must be between 1 and 100"),
    "bool for the passkey cap": ({"max_credentials": True}, "max_credentials must be an integer"),
    "string for the passkey cap": ({"max_credentials": "20"}, "max_credentials must be an integer"),
    "string for recovery codes": ({"recovery_codes": "no"}, "recovery_codes must be true or false"),
    "int for recovery links": ({"recovery_links": 0}, "recovery_links must be true or false"),
    "null for recovery codes": ({"recovery_codes": None}, "recovery_codes must be true or false"),
    "unknown algorithm": (
        {"allowed_algorithms": [-65535]},
        "allowed_algorithms[0] must be a supported",
    ),
    "repeated algorithm": ({"allowed_algorithms": [-7, -7]}, "allowed_algorithms[1] repeats"),
    "unknown modality": ({"modalities": ["fingerprints"]}, "modalities[0] must be one of"),
    "none modality": ({"modalities": ["none"]}, "modalities[0] must be one of"),
    # AAGUIDs
    "not a uuid": ({"allowed_aaguids": ["yubikey"]}, "allowed_aaguids[0] must be a UUID"),
    "undashed": (
        {"denied_aaguids": ["fa2b99dc9e3942578f924a30d23c4118"]},
        "denied_aaguids[0] must be a UUID",
    ),
    "braced": ({"allowed_aaguids": ["{fa2b99dc-9e39-4257-8f92-4a30d23c41}"]}, "must be a UUID"),
    "non-ascii digits": (
        {"allowed_aaguids": ["fa2b99dc-9e39-4257-8f92-4a30d23c411٨"]},
        "must be a UUID",
    ),
    "number": ({"allowed_aaguids": [123]}, "allowed_aaguids[0] must be a UUID"),
    "repeated in other case": (
        {"allowed_aaguids": [YUBIKEY_5_NFC, YUBIKEY_5_NFC.upper()]},
        "allowed_aaguids[1] repeats",
    ),
    "huge list": (
        {"denied_aaguids": [YUBIKEY_5_NFC] * (MAX_AAGUIDS + 1)},
        "denied_aaguids has 257 entries; at most 256",
    ),
    # unknown fields
    "unknown field": ({"userVerification": "required"}, "unknown field 'userVerification'"),
    "name in document": ({"name": "staff"}, "name and version are not part of the rules"),
    "not an object": ([{"user_verification": "required"}], "must be a JSON object"),
    "null document": (None, "must be a JSON object"),
    # unsatisfiable
    "empty allow-list": ({"allowed_aaguids": []}, "allowed_aaguids is empty"),
    "empty algorithms": ({"allowed_algorithms": []}, "allowed_algorithms is empty"),
    "empty modalities": ({"modalities": []}, "modalities is empty"),
    "allowed all denied": (
        {"allowed_aaguids": [YUBIKEY_5_NFC], "denied_aaguids": [YUBIKEY_5_NFC, NIL]},
        "every AAGUID in allowed_aaguids is also denied",
    ),
    "allowed and denied": (
        {
            "allowed_aaguids": [YUBIKEY_5_NFC, CERTIFIED_FINGERPRINT],
            "denied_aaguids": [YUBIKEY_5_NFC],
        },
        f"AAGUID {YUBIKEY_5_NFC} is both allowed and denied",
    ),
    "nil allowed": ({"allowed_aaguids": [NIL]}, "all-zero AAGUID"),
}


@pytest.mark.parametrize(("doc", "expected"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_documents_are_refused_with_a_readable_problem(doc: object, expected: str) -> None:
    found = problems(doc)
    assert any(expected in p for p in found), found


def test_a_huge_list_is_refused_without_checking_each_entry() -> None:
    assert problems({"allowed_aaguids": ["x"] * 100_000}) == [
        "allowed_aaguids has 100000 entries; at most 256 are allowed"
    ]


def test_every_problem_is_reported_at_once_in_field_order() -> None:
    assert problems({"min_certification_level": 9, "attachment": "usb", "bogus": 1}) == [
        "unknown field 'bogus'",
        "attachment must be null or one of 'platform', 'cross-platform'",
        "min_certification_level must be between 0 and 3",
    ]


def test_problems_are_capped_and_never_echo_odd_input() -> None:
    found = problems({f"<script>{i}": 0 for i in range(10_000)})
    assert len(found) == MAX_PROBLEMS + 1
    assert found[-1] == "(further problems were not checked)"
    assert not any("<script>" in p for p in found)
    assert found[0] == "unknown field (name not shown)"


def test_unsatisfiable_is_only_judged_once_the_fields_are_valid() -> None:
    assert problems({"allowed_aaguids": [], "step_up_max_age_seconds": 1}) == [
        "step_up_max_age_seconds must be between 10 and 86400"
    ]


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        ("", 1, "name must be"),
        ("Staff Policy", 1, "name must be"),
        ("x" * 65, 1, "name must be"),
        ("staff", 0, "version must be"),
        ("staff", True, "version must be"),
        ("staff", 2**31, "version must be"),
    ],
)
def test_name_and_version_are_checked(name: object, version: object, expected: str) -> None:
    assert any(expected in p for p in problems({}, name=name, version=version))


def test_policy_invalid_is_not_an_auth_error() -> None:
    """The admin API maps it to ``malformed`` itself; it carries no WebAuthn failure code."""
    assert not issubclass(PolicyInvalid, AuthError)


def test_the_document_is_canonical_and_round_trips() -> None:
    doc = {
        "allowed_aaguids": [YUBIKEY_5_NFC.upper(), CERTIFIED_FINGERPRINT],
        "modalities": ["face", "iris"],
    }
    policy = parse_policy(doc, name="keys", version=2)
    canonical = policy_document(policy)
    assert list(canonical) == list(FIELDS)
    assert canonical["allowed_aaguids"] == sorted([YUBIKEY_5_NFC, CERTIFIED_FINGERPRINT])
    assert canonical["modalities"] == ["face", "iris"]
    assert canonical["denied_aaguids"] == []
    assert canonical["attachment"] is None
    assert parse_policy(json.loads(json.dumps(canonical)), name="keys", version=2) == policy
    assert policy_document(Policy.default()) == {
        "user_verification": "preferred",
        "attachment": None,
        "require_trusted_attestation": False,
        "allowed_aaguids": None,
        "denied_aaguids": [],
        "device_bound_only": False,
        "max_false_accept_rate": None,
        "modalities": None,
        "min_certification_level": 0,
        "allowed_algorithms": None,
        "sign_count_regression": "reject",
        "step_up_max_age_seconds": 300,
        "max_credentials": 20,
        "recovery_codes": True,
        "recovery_links": True,
    }


@pytest.mark.parametrize("rule", ["recovery_codes", "recovery_links"])
def test_recovery_is_on_unless_a_document_turns_it_off(rule: str) -> None:
    """Documents stored before the recovery rules existed keep recovery on."""
    assert getattr(parse_policy({}, name="default", version=1), rule) is True
    off = parse_policy({rule: False}, name="staff", version=1)
    assert getattr(off, rule) is False
    assert policy_document(off)[rule] is False
    assert parse_policy(policy_document(off), name="staff", version=1) == off
