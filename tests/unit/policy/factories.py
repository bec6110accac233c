"""Facts and metadata for the policy tests, modelled on real FIDO MDS entries (blob-122).

``facts()`` is the best case: a proven, trusted, device-bound, user-verified credential of a
certified fingerprint key with a signed MDS entry. Each test weakens one thing with keywords.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from authsvc.policy.facts import AuthenticatorMetadata, CredentialFacts

#: "Excelsecu eSecu FIDO2 Fingerprint Key": FAR descriptors 1e-05 and 0.01, so worst 0.01
EXCELSECU_FINGERPRINT = "6002f033-3c07-ce3e-d0f7-0ffe5ed42543"
#: "YubiKey 5 Series with NFC": certified L1, PIN only, so no false-accept rate at all
YUBIKEY_5_NFC = "fa2b99dc-9e39-4257-8f92-4a30d23c4118"
#: a made-up certified fingerprint key with an excellent FAR, the model claims pretend to be
CERTIFIED_FINGERPRINT = "c0ffee00-0000-4000-8000-000000000001"
NIL = "00000000-0000-0000-0000-000000000000"


def metadata(**changes: Any) -> AuthenticatorMetadata:
    base = AuthenticatorMetadata(
        aaguid=CERTIFIED_FINGERPRINT,
        description="Certified Fingerprint Key",
        statuses=("FIDO_CERTIFIED_L1", "FIDO_CERTIFIED"),
        latest_status="FIDO_CERTIFIED",
        certification_level=1,
        modalities=frozenset({"fingerprint", "passcode", "presence"}),
        worst_far=1e-6,
        from_mds=True,
    )
    return replace(base, **changes)


def facts(**changes: Any) -> CredentialFacts:
    base = CredentialFacts(
        aaguid=CERTIFIED_FINGERPRINT,
        aaguid_proven=True,
        trust="trusted",
        attachment="cross-platform",
        backup_eligible=False,
        algorithm=-7,
        user_verified=True,
        metadata=metadata(),
    )
    return replace(base, **changes)


def claimed(**changes: Any) -> CredentialFacts:
    """A ``none``-attestation passkey that merely claims the certified model's AAGUID."""
    return facts(aaguid_proven=False, trust="none", **changes)


def excelsecu() -> CredentialFacts:
    return facts(
        aaguid=EXCELSECU_FINGERPRINT,
        metadata=metadata(
            aaguid=EXCELSECU_FINGERPRINT,
            description="Excelsecu eSecu FIDO2 Fingerprint Key",
            modalities=frozenset({"fingerprint", "presence"}),
            worst_far=0.01,
        ),
    )


def yubikey() -> CredentialFacts:
    return facts(
        aaguid=YUBIKEY_5_NFC,
        metadata=metadata(
            aaguid=YUBIKEY_5_NFC,
            description="YubiKey 5 Series with NFC",
            modalities=frozenset({"passcode", "presence"}),
            worst_far=None,
        ),
    )
