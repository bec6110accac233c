"""Evaluate a policy against one credential at one ceremony.

The same function runs at registration and at every sign-in, so a tightened policy refuses
already-registered credentials at once. It collects *every* failing rule rather than the
first, in the fixed order of :class:`ReasonCode`, so an administrator sees the whole story and
the same facts always give the same decision.

Proven versus claimed (see :mod:`authsvc.policy.facts`) is the heart of it:

* Rules that *admit* a model by what it is need proof. An AAGUID allow-list is met only by
  a proven AAGUID. A false-accept rate, a modality and a certification level are read only
  from *proven metadata*: a signed FIDO MDS entry for the very AAGUID that a trusted
  attestation proved. A claimed AAGUID never meets them, however good its metadata looks;
  each such rule fails with its own code, and ``aaguid_not_proven`` says why once.
* Rules that *refuse* may rely on claims, because believing a claim can only make us
  stricter: a denied AAGUID and a compromised metadata entry refuse even when claimed. (A
  deny-list therefore only stops authenticators that tell the truth; to keep a model out for
  certain, use an allow-list, which needs proof.)
* A compromised authenticator is refused under every policy, the default included, when any
  of its status reports (not only the latest) is in ``COMPROMISED_STATUSES``. A later report
  such as ``FIDO_CERTIFIED`` or ``UPDATE_AVAILABLE`` may concern fixed firmware, but the facts
  do not carry the firmware version, and a leaked attestation key stays leaked.
* ``attachment`` and the UV and BE flags are what the client and authenticator report for
  this ceremony; a client that does not state an attachment does not meet a requirement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum, unique

from authsvc.policy.facts import COMPROMISED_STATUSES, AuthenticatorMetadata, CredentialFacts
from authsvc.policy.model import Ceremony, Policy


@unique
class ReasonCode(StrEnum):
    """Machine-readable reasons, in the order a decision lists them. Never renamed."""

    AUTHENTICATOR_COMPROMISED = "authenticator_compromised"
    AAGUID_DENIED = "aaguid_denied"
    ATTESTATION_NOT_TRUSTED = "attestation_not_trusted"
    AAGUID_NOT_PROVEN = "aaguid_not_proven"
    AAGUID_NOT_ALLOWED = "aaguid_not_allowed"
    CERTIFICATION_TOO_LOW = "certification_too_low"
    MODALITY_NOT_ALLOWED = "modality_not_allowed"
    FALSE_ACCEPT_RATE_UNKNOWN = "false_accept_rate_unknown"
    FALSE_ACCEPT_RATE_TOO_HIGH = "false_accept_rate_too_high"
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    USER_VERIFICATION_REQUIRED = "user_verification_required"
    ATTACHMENT_NOT_ALLOWED = "attachment_not_allowed"
    BACKUP_ELIGIBLE_NOT_ALLOWED = "backup_eligible_not_allowed"


_Fail = Callable[[ReasonCode, str], None]


@dataclass(frozen=True, slots=True)
class Reason:
    """One failed rule: a stable ``code`` for machines and audit, a ``message`` for people."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome; ``allowed`` is exactly "no reasons", which the constructor enforces."""

    allowed: bool
    reasons: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        if self.allowed != (not self.reasons):
            raise ValueError("a decision is allowed exactly when it has no reasons")

    @classmethod
    def from_reasons(cls, reasons: tuple[Reason, ...]) -> Decision:
        return cls(allowed=not reasons, reasons=reasons)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


def evaluate(policy: Policy, facts: CredentialFacts, *, ceremony: Ceremony) -> Decision:
    """Decide whether ``policy`` accepts the credential described by ``facts`` at ``ceremony``."""
    if ceremony not in {"registration", "authentication"}:
        raise ValueError("ceremony must be 'registration' or 'authentication'")
    at = "at registration" if ceremony == "registration" else "at sign-in"
    reasons: list[Reason] = []

    def fail(code: ReasonCode, message: str) -> None:
        reasons.append(Reason(code, message))

    status = _compromise(facts.metadata)
    if status is not None:
        fail(ReasonCode.AUTHENTICATOR_COMPROMISED, f"the metadata reports this model {status}")
    if facts.aaguid in policy.denied_aaguids:
        fail(ReasonCode.AAGUID_DENIED, f"the policy denies AAGUID {facts.aaguid}")
    if policy.require_trusted_attestation and facts.trust != "trusted":
        fail(ReasonCode.ATTESTATION_NOT_TRUSTED, "the attestation did not chain to a trusted root")
    _check_proof(policy, facts, fail)
    if policy.allowed_algorithms is not None and facts.algorithm not in policy.allowed_algorithms:
        fail(ReasonCode.ALGORITHM_NOT_ALLOWED, f"COSE algorithm {facts.algorithm} is not allowed")
    if policy.user_verification == "required" and not facts.user_verified:
        fail(ReasonCode.USER_VERIFICATION_REQUIRED, f"the user was not verified {at}")
    if policy.attachment is not None and facts.attachment != policy.attachment:
        unstated = " (the client did not say)" if facts.attachment is None else ""
        fail(ReasonCode.ATTACHMENT_NOT_ALLOWED, f"attachment must be {policy.attachment}{unstated}")
    if policy.device_bound_only and facts.backup_eligible:
        fail(ReasonCode.BACKUP_ELIGIBLE_NOT_ALLOWED, "only device-bound credentials are allowed")
    return Decision.from_reasons(tuple(reasons))


def _compromise(metadata: AuthenticatorMetadata | None) -> str | None:
    """The compromising status the metadata reports (latest first, then any ever), if any."""
    if metadata is None:
        return None
    for status in (metadata.latest_status, *reversed(metadata.statuses)):
        if status in COMPROMISED_STATUSES:
            return status
    return None


def proven_metadata(facts: CredentialFacts) -> AuthenticatorMetadata | None:
    """The metadata that may *admit* this credential, or None.

    Only a signed MDS entry for the very AAGUID (or fido-u2f key identifier) a trusted
    attestation proved describes this authenticator; a community-list entry (names only)
    or an entry looked up by a claimed AAGUID describes whatever the authenticator pretends
    to be. ``trust`` is checked as well
    as ``aaguid_proven`` so that inconsistent facts fall on the safe side.
    """
    metadata = facts.metadata
    if not (_aaguid_proven(facts) and metadata is not None and metadata.from_mds):
        return None
    if metadata.aaguid == facts.aaguid:
        return metadata
    # fido-u2f: the entry was found by the key identifier of the attestation certificate
    # that just chained to a trusted root, which identifies the model as well as an AAGUID
    if metadata.aaguid is None and facts.attestation_key_id is not None:
        return metadata
    return None


def _aaguid_proven(facts: CredentialFacts) -> bool:
    return facts.aaguid_proven and facts.trust == "trusted"


def _check_proof(policy: Policy, facts: CredentialFacts, fail: _Fail) -> None:
    """The rules that only a proven model can meet, in :class:`ReasonCode` order."""
    allowed = policy.allowed_aaguids
    far = policy.max_false_accept_rate
    needs_proof = (
        allowed is not None
        or far is not None
        or policy.modalities is not None
        or policy.min_certification_level > 0
    )
    if not needs_proof:
        return
    proven = _aaguid_proven(facts)
    if not proven:
        fail(ReasonCode.AAGUID_NOT_PROVEN, "the AAGUID is only claimed, not proven by attestation")
    # An allow-list is about identity: a proven AAGUID meets it even without an MDS entry
    # (e.g. proven by the operator's own attestation root).
    if allowed is not None and not (proven and facts.aaguid in allowed):
        fail(ReasonCode.AAGUID_NOT_ALLOWED, "the authenticator model is not on the allow-list")
    metadata = proven_metadata(facts)
    source = "its proven metadata" if metadata else "no proven metadata"
    level = metadata.certification_level if metadata else 0
    if level < policy.min_certification_level:
        fail(
            ReasonCode.CERTIFICATION_TOO_LOW,
            f"certification level {policy.min_certification_level} is required; "
            f"{source} gives {level}",
        )
    if policy.modalities is not None and not (metadata and metadata.modalities & policy.modalities):
        wanted = ", ".join(sorted(policy.modalities))
        fail(ReasonCode.MODALITY_NOT_ALLOWED, f"one of {wanted} is required; {source} offers none")
    if far is not None:
        worst = metadata.worst_far if metadata else None
        if worst is None:
            fail(ReasonCode.FALSE_ACCEPT_RATE_UNKNOWN, f"{source} states no false-accept rate")
        elif worst > far:
            fail(
                ReasonCode.FALSE_ACCEPT_RATE_TOO_HIGH,
                f"the worst false-accept rate {worst:g} is above the maximum {far:g}",
            )


def step_up_fresh(policy: Policy, *, age_seconds: float) -> bool:
    """Whether a user-verified assertion ``age_seconds`` old is fresh enough for a sensitive action.

    A negative age (an assertion from the future, i.e. a clock problem) is not fresh.
    """
    return 0 <= age_seconds <= policy.step_up_max_age_seconds
