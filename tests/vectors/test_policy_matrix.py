"""The policy matrix: each shared vector under several policies, decision and reasons.

The facts come from the vectors as they are (see ``policy_matrix.py``: registration
vectors verified with their own roots and looked up in the real MDS BLOB no. 122). The
table below was reviewed by hand: every refusal names its reasons, and every vector whose
AAGUID is only claimed (``none``/``self`` attestation, or an assertion) fails the rules
that need proof with ``aaguid_not_proven``, whatever its AAGUID claims (the Windows Hello
``none`` vector claims a FIDO-certified model). A vector added later is checked against
the invariants; add it to the table to pin its decisions.
"""

from __future__ import annotations

import json

import pytest

from authsvc.policy.document import parse_policy
from authsvc.policy.evaluate import evaluate
from authsvc.policy.examples import EXAMPLES
from authsvc.policy.facts import CredentialFacts
from authsvc.policy.model import Policy
from tests.shared import Vector, load_vectors
from tests.vectors.policy_matrix import blob_122, facts_of

YUBIKEYS = ["d8522d9f-575b-4866-88a9-ba99fa02f35b", "c5ef55ff-ad9a-4b9f-b580-adebafe026d0"]
POLICIES: dict[str, Policy] = {
    name: parse_policy(document, name=name, version=1)
    for name, document in {
        "uv-required": {"user_verification": "required"},
        "platform-only": {"attachment": "platform"},
        "trusted-attestation": {"require_trusted_attestation": True},
        "device-bound": {"device_bound_only": True},
        "far-1-in-50000": {"max_false_accept_rate": 1 / 50_000},
        "certified-l1": {"min_certification_level": 1},
        "yubikey-allow-list": {"allowed_aaguids": YUBIKEYS},
    }.items()
}
PROOF_RULES = ("far-1-in-50000", "certified-l1", "yubikey-allow-list")

EXPECTED: dict[str, dict[str, list[str]]] = {
    "uv-required": {
        "ok": [
            "android-key-galaxy-s9-plus-registration",
            "android-key-pixel-8a-registration",
            "android-safetynet-android-phone-registration",
            "apple-face-id-touch-id-registration",
            "eddsa-yubikey-bio-authentication",
            "es256-android-app-synced-authentication",
            "es256-google-password-manager-synced-authentication",
            "es256-icloud-keychain-synced-authentication",
            "es256-localhost-userhandle-authentication",
            "es256-multiple-origins-authentication",
            "es256-synced-passkey-authentication",
            "none-1password-synced-registration",
            "none-android-app-extensions-registration",
            "none-browser-es256-registration",
            "none-google-password-manager-synced-registration",
            "none-icloud-keychain-synced-registration",
            "none-synced-passkey-zero-aaguid-registration",
            "none-windows-hello-rs256-registration",
            "packed-chrome-touch-id-self-registration",
            "packed-yubikey-bio-eddsa-registration",
            "packed-yubikey-bio-es256-registration",
            "packed-yubikey-security-key-nfc-es256-registration",
            "rs256-uv-authentication",
            "rs256-windows-hello-authentication",
            "tpm-windows-hello-es256-registration",
            "tpm-windows-hello-qualcomm-rs256-registration",
            "tpm-windows-hello-surface-pro-4-rs256-registration",
        ],
        "user_verification_required": [
            "eddsa-security-key-authentication",
            "es256-dontneeda-authentication",
            "es256-legacy-clientdata-authentication",
            "es256-up-only-authentication",
            "es256-zero-counter-authentication",
            "fido-u2f-yubikey-registration",
            "packed-test-authenticator-ps256-self-registration",
            "packed-yubikey-5-eddsa-registration",
        ],
    },
    "platform-only": {
        "ok": [
            "android-key-pixel-8a-registration",
            "es256-icloud-keychain-synced-authentication",
            "es256-synced-passkey-authentication",
            "none-1password-synced-registration",
            "none-synced-passkey-zero-aaguid-registration",
        ],
        "attachment_not_allowed": [
            "android-key-galaxy-s9-plus-registration",
            "android-safetynet-android-phone-registration",
            "apple-face-id-touch-id-registration",
            "eddsa-security-key-authentication",
            "eddsa-yubikey-bio-authentication",
            "es256-android-app-synced-authentication",
            "es256-dontneeda-authentication",
            "es256-google-password-manager-synced-authentication",
            "es256-legacy-clientdata-authentication",
            "es256-localhost-userhandle-authentication",
            "es256-multiple-origins-authentication",
            "es256-up-only-authentication",
            "es256-zero-counter-authentication",
            "fido-u2f-yubikey-registration",
            "none-android-app-extensions-registration",
            "none-browser-es256-registration",
            "none-google-password-manager-synced-registration",
            "none-icloud-keychain-synced-registration",
            "none-windows-hello-rs256-registration",
            "packed-chrome-touch-id-self-registration",
            "packed-test-authenticator-ps256-self-registration",
            "packed-yubikey-5-eddsa-registration",
            "packed-yubikey-bio-eddsa-registration",
            "packed-yubikey-bio-es256-registration",
            "packed-yubikey-security-key-nfc-es256-registration",
            "rs256-uv-authentication",
            "rs256-windows-hello-authentication",
            "tpm-windows-hello-es256-registration",
            "tpm-windows-hello-qualcomm-rs256-registration",
            "tpm-windows-hello-surface-pro-4-rs256-registration",
        ],
    },
    "trusted-attestation": {
        "ok": [
            "android-key-galaxy-s9-plus-registration",
            "android-key-pixel-8a-registration",
            "android-safetynet-android-phone-registration",
            "apple-face-id-touch-id-registration",
            "fido-u2f-yubikey-registration",
            "packed-yubikey-5-eddsa-registration",
            "packed-yubikey-bio-eddsa-registration",
            "packed-yubikey-bio-es256-registration",
            "packed-yubikey-security-key-nfc-es256-registration",
            "tpm-windows-hello-es256-registration",
            "tpm-windows-hello-qualcomm-rs256-registration",
            "tpm-windows-hello-surface-pro-4-rs256-registration",
        ],
        "attestation_not_trusted": [
            "eddsa-security-key-authentication",
            "eddsa-yubikey-bio-authentication",
            "es256-android-app-synced-authentication",
            "es256-dontneeda-authentication",
            "es256-google-password-manager-synced-authentication",
            "es256-icloud-keychain-synced-authentication",
            "es256-legacy-clientdata-authentication",
            "es256-localhost-userhandle-authentication",
            "es256-multiple-origins-authentication",
            "es256-synced-passkey-authentication",
            "es256-up-only-authentication",
            "es256-zero-counter-authentication",
            "none-1password-synced-registration",
            "none-android-app-extensions-registration",
            "none-browser-es256-registration",
            "none-google-password-manager-synced-registration",
            "none-icloud-keychain-synced-registration",
            "none-synced-passkey-zero-aaguid-registration",
            "none-windows-hello-rs256-registration",
            "packed-chrome-touch-id-self-registration",
            "packed-test-authenticator-ps256-self-registration",
            "rs256-uv-authentication",
            "rs256-windows-hello-authentication",
        ],
    },
    "device-bound": {
        "ok": [
            "android-key-galaxy-s9-plus-registration",
            "android-key-pixel-8a-registration",
            "android-safetynet-android-phone-registration",
            "apple-face-id-touch-id-registration",
            "eddsa-security-key-authentication",
            "eddsa-yubikey-bio-authentication",
            "es256-dontneeda-authentication",
            "es256-legacy-clientdata-authentication",
            "es256-localhost-userhandle-authentication",
            "es256-multiple-origins-authentication",
            "es256-up-only-authentication",
            "es256-zero-counter-authentication",
            "fido-u2f-yubikey-registration",
            "none-android-app-extensions-registration",
            "none-browser-es256-registration",
            "none-windows-hello-rs256-registration",
            "packed-chrome-touch-id-self-registration",
            "packed-test-authenticator-ps256-self-registration",
            "packed-yubikey-5-eddsa-registration",
            "packed-yubikey-bio-eddsa-registration",
            "packed-yubikey-bio-es256-registration",
            "packed-yubikey-security-key-nfc-es256-registration",
            "rs256-uv-authentication",
            "rs256-windows-hello-authentication",
            "tpm-windows-hello-es256-registration",
            "tpm-windows-hello-qualcomm-rs256-registration",
            "tpm-windows-hello-surface-pro-4-rs256-registration",
        ],
        "backup_eligible_not_allowed": [
            "es256-android-app-synced-authentication",
            "es256-google-password-manager-synced-authentication",
            "es256-icloud-keychain-synced-authentication",
            "es256-synced-passkey-authentication",
            "none-1password-synced-registration",
            "none-google-password-manager-synced-registration",
            "none-icloud-keychain-synced-registration",
            "none-synced-passkey-zero-aaguid-registration",
        ],
    },
    "far-1-in-50000": {
        "ok": [],
        "false_accept_rate_unknown": [
            "android-key-galaxy-s9-plus-registration",
            "android-key-pixel-8a-registration",
            "android-safetynet-android-phone-registration",
            "apple-face-id-touch-id-registration",
            "fido-u2f-yubikey-registration",
            "packed-yubikey-5-eddsa-registration",
            "packed-yubikey-bio-eddsa-registration",
            "packed-yubikey-bio-es256-registration",
            "packed-yubikey-security-key-nfc-es256-registration",
            "tpm-windows-hello-es256-registration",
            "tpm-windows-hello-qualcomm-rs256-registration",
            "tpm-windows-hello-surface-pro-4-rs256-registration",
        ],
        "aaguid_not_proven false_accept_rate_unknown": [
            "eddsa-security-key-authentication",
            "eddsa-yubikey-bio-authentication",
            "es256-android-app-synced-authentication",
            "es256-dontneeda-authentication",
            "es256-google-password-manager-synced-authentication",
            "es256-icloud-keychain-synced-authentication",
            "es256-legacy-clientdata-authentication",
            "es256-localhost-userhandle-authentication",
            "es256-multiple-origins-authentication",
            "es256-synced-passkey-authentication",
            "es256-up-only-authentication",
            "es256-zero-counter-authentication",
            "none-1password-synced-registration",
            "none-android-app-extensions-registration",
            "none-browser-es256-registration",
            "none-google-password-manager-synced-registration",
            "none-icloud-keychain-synced-registration",
            "none-synced-passkey-zero-aaguid-registration",
            "none-windows-hello-rs256-registration",
            "packed-chrome-touch-id-self-registration",
            "packed-test-authenticator-ps256-self-registration",
            "rs256-uv-authentication",
            "rs256-windows-hello-authentication",
        ],
    },
    "certified-l1": {
        "ok": [
            "android-key-galaxy-s9-plus-registration",
            "android-key-pixel-8a-registration",
            "android-safetynet-android-phone-registration",
            "fido-u2f-yubikey-registration",
            "packed-yubikey-5-eddsa-registration",
            "packed-yubikey-bio-eddsa-registration",
            "packed-yubikey-bio-es256-registration",
            "packed-yubikey-security-key-nfc-es256-registration",
            "tpm-windows-hello-es256-registration",
            "tpm-windows-hello-qualcomm-rs256-registration",
            "tpm-windows-hello-surface-pro-4-rs256-registration",
        ],
        "certification_too_low": [
            "apple-face-id-touch-id-registration",
        ],
        "aaguid_not_proven certification_too_low": [
            "eddsa-security-key-authentication",
            "eddsa-yubikey-bio-authentication",
            "es256-android-app-synced-authentication",
            "es256-dontneeda-authentication",
            "es256-google-password-manager-synced-authentication",
            "es256-icloud-keychain-synced-authentication",
            "es256-legacy-clientdata-authentication",
            "es256-localhost-userhandle-authentication",
            "es256-multiple-origins-authentication",
            "es256-synced-passkey-authentication",
            "es256-up-only-authentication",
            "es256-zero-counter-authentication",
            "none-1password-synced-registration",
            "none-android-app-extensions-registration",
            "none-browser-es256-registration",
            "none-google-password-manager-synced-registration",
            "none-icloud-keychain-synced-registration",
            "none-synced-passkey-zero-aaguid-registration",
            "none-windows-hello-rs256-registration",
            "packed-chrome-touch-id-self-registration",
            "packed-test-authenticator-ps256-self-registration",
            "rs256-uv-authentication",
            "rs256-windows-hello-authentication",
        ],
    },
    "yubikey-allow-list": {
        "ok": [
            "packed-yubikey-5-eddsa-registration",
            "packed-yubikey-bio-eddsa-registration",
            "packed-yubikey-bio-es256-registration",
        ],
        "aaguid_not_allowed": [
            "android-key-galaxy-s9-plus-registration",
            "android-key-pixel-8a-registration",
            "android-safetynet-android-phone-registration",
            "apple-face-id-touch-id-registration",
            "fido-u2f-yubikey-registration",
            "packed-yubikey-security-key-nfc-es256-registration",
            "tpm-windows-hello-es256-registration",
            "tpm-windows-hello-qualcomm-rs256-registration",
            "tpm-windows-hello-surface-pro-4-rs256-registration",
        ],
        "aaguid_not_proven aaguid_not_allowed": [
            "eddsa-security-key-authentication",
            "eddsa-yubikey-bio-authentication",
            "es256-android-app-synced-authentication",
            "es256-dontneeda-authentication",
            "es256-google-password-manager-synced-authentication",
            "es256-icloud-keychain-synced-authentication",
            "es256-legacy-clientdata-authentication",
            "es256-localhost-userhandle-authentication",
            "es256-multiple-origins-authentication",
            "es256-synced-passkey-authentication",
            "es256-up-only-authentication",
            "es256-zero-counter-authentication",
            "none-1password-synced-registration",
            "none-android-app-extensions-registration",
            "none-browser-es256-registration",
            "none-google-password-manager-synced-registration",
            "none-icloud-keychain-synced-registration",
            "none-synced-passkey-zero-aaguid-registration",
            "none-windows-hello-rs256-registration",
            "packed-chrome-touch-id-self-registration",
            "packed-test-authenticator-ps256-self-registration",
            "rs256-uv-authentication",
            "rs256-windows-hello-authentication",
        ],
    },
}

VECTORS = [v for v in load_vectors(None, Vector) if v.expected["ok"]]


def _decision(vector: Vector, policy: str) -> str:
    decision = evaluate(POLICIES[policy], facts_of(vector), ceremony=vector.data["ceremony"])
    return "ok" if decision.allowed else " ".join(decision.codes)


def _expected(vector: str, policy: str) -> str | None:
    for outcome, names in EXPECTED[policy].items():
        if vector in names:
            return outcome
    return None


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_decision_and_reasons(vector: Vector, policy: str) -> None:
    got = _decision(vector, policy)
    expected = _expected(vector.name, policy)
    if expected is not None:
        assert got == expected
    facts = facts_of(vector)
    if not (facts.aaguid_proven and facts.trust == "trusted") and policy in PROOF_RULES:
        assert "aaguid_not_proven" in got.split()  # a claim never meets a proof rule


def test_every_pinned_vector_exists() -> None:
    names = {v.name for v in VECTORS}
    for policy in EXPECTED.values():
        for listed in policy.values():
            assert set(listed) <= names


@pytest.mark.parametrize(
    ("aaguid", "expected"),
    [
        ("e416201b-afeb-41ca-a03d-2281c28322aa", "ok"),  # ATKey.Pro: L1, FAR 2e-05
        ("30b5035e-d297-4ff1-b00b-addc96ba6a98", "ok"),  # OneSpan DIGIPASS FX1 BIO: 1e-05
        ("da1fa263-8b25-42b6-a820-c0036f21ba7f", "false_accept_rate_too_high"),  # ATKey.Card
        ("6002f033-3c07-ce3e-d0f7-0ffe5ed42543", "false_accept_rate_too_high"),  # Excelsecu
        ("d8522d9f-575b-4866-88a9-ba99fa02f35b", "false_accept_rate_unknown"),  # YubiKey Bio
        ("c5ef55ff-ad9a-4b9f-b580-adebafe026d0", "false_accept_rate_unknown"),  # YubiKey 5
        (
            "ba86dc56-635f-4141-aef6-00227b1b9af6",  # TruU Windows Authenticator: REVOKED
            "authenticator_compromised certification_too_low false_accept_rate_unknown",
        ),
    ],
)
def test_the_staff_example_on_real_metadata(aaguid: str, expected: str) -> None:
    """The README's "staff" policy on proven, device-bound, user-verified real models."""
    entry = blob_122().by_aaguid(aaguid)
    assert entry is not None
    facts = CredentialFacts(
        aaguid=aaguid,
        aaguid_proven=True,
        trust="trusted",
        attachment="cross-platform",
        backup_eligible=False,
        algorithm=-7,
        user_verified=True,
        metadata=entry.metadata,
    )
    staff = parse_policy(json.loads(EXAMPLES["staff"]), name="staff", version=1)
    decision = evaluate(staff, facts, ceremony="authentication")
    assert ("ok" if decision.allowed else " ".join(decision.codes)) == expected
