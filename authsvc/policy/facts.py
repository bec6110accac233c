"""What a policy decision is made from: the credential, and what metadata says of its model.

Two kinds of knowledge are kept apart on purpose. ``aaguid_proven`` is true only when the
AAGUID came with an attestation that chained to a trusted root (the metadata entry's own
roots or the operator's): then the metadata describes this very authenticator. Otherwise
the AAGUID is only what the authenticator *claims*, and no requirement that needs proof
(an allow-list, a certification level, a biometric false-accept rate) may be met by it;
a claim can still be *refused* (a denied or revoked AAGUID), since refusing is safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticatorMetadata:
    """What the FIDO Metadata Service (or the community AAGUID list) says of one model."""

    aaguid: str | None  # lowercase, dashed; None for fido-u2f entries known by key id
    description: str
    icon: str | None = None
    #: every status report's status, oldest first (e.g. "FIDO_CERTIFIED_L1", "REVOKED")
    statuses: tuple[str, ...] = ()
    #: the status of the report with the latest effective date, if any
    latest_status: str | None = None
    #: 0 = not FIDO certified; 1 for FIDO_CERTIFIED or FIDO_CERTIFIED_L1, 2 for L2, ...
    certification_level: int = 0
    #: user verification modalities, normalised: "fingerprint", "face", "voice", "iris",
    #: "eyeprint", "handprint", "palmprint", "passcode", "pattern", "presence", "none", ...
    modalities: frozenset[str] = field(default_factory=frozenset)
    #: the highest (worst) non-zero selfAttestedFAR over the biometric accuracy descriptors,
    #: or None when no descriptor states one (vendors often leave it 0.0, which states nothing)
    worst_far: float | None = None
    #: True when the entry came from FIDO MDS (signed), False for the community list (names only)
    from_mds: bool = True


#: Status report values that mean an authenticator must not be trusted any more.
COMPROMISED_STATUSES = frozenset(
    {
        "REVOKED",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_VERIFICATION_BYPASS",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialFacts:
    """One credential at one ceremony, as far as a policy can see it."""

    aaguid: str  # lowercase, dashed ("00000000-0000-0000-0000-000000000000" when none)
    aaguid_proven: bool
    trust: str  # "none" | "self" | "untrusted" | "trusted"
    attachment: str | None  # "platform" | "cross-platform" | None (the client did not say)
    backup_eligible: bool
    algorithm: int  # COSE algorithm
    user_verified: bool  # the UV flag of this ceremony
    metadata: AuthenticatorMetadata | None = None  # looked up by proven or claimed AAGUID
    #: fido-u2f has no AAGUID: its metadata was looked up by this attestation key identifier
    attestation_key_id: str | None = None
