"""A policy as versioned, immutable data.

Every rule has a default that means "no requirement", so :meth:`Policy.default` accepts any
credential that the ceremony itself accepted. A policy is never edited in place: a change is a
new ``version``, which is what lets :mod:`authsvc.policy.cache` keep parsed policies forever
and lets an audit record name exactly the rules that decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

UserVerification = Literal["required", "preferred", "discouraged"]
Attachment = Literal["platform", "cross-platform"]
SignCountAction = Literal["reject", "flag", "lock"]
Ceremony = Literal["registration", "authentication"]

USER_VERIFICATION_VALUES: Final[tuple[UserVerification, ...]] = (
    "required",
    "preferred",
    "discouraged",
)
ATTACHMENT_VALUES: Final[tuple[Attachment, ...]] = ("platform", "cross-platform")
SIGN_COUNT_ACTIONS: Final[tuple[SignCountAction, ...]] = ("reject", "flag", "lock")

#: The modalities a policy may ask for, named as ``AuthenticatorMetadata`` normalises them.
#: Metadata may also say "none" or "all", but neither is a way of verifying a
#: user, so a policy cannot require them; an unknown name is refused so a typo cannot make a
#: policy that nothing satisfies.
KNOWN_MODALITIES: Final = frozenset(
    {
        "presence",
        "fingerprint",
        "passcode",
        "voice",
        "face",
        "location",
        "eyeprint",
        "iris",
        "pattern",
        "handprint",
        "palmprint",
    }
)

#: the AAGUID of authenticators that do not name their model
NIL_AAGUID: Final = "00000000-0000-0000-0000-000000000000"

#: FIDO certification levels: 0 none, 1 = L1 (or plain FIDO_CERTIFIED), ... up to L3.
MAX_CERTIFICATION_LEVEL: Final = 3

#: How many passkeys one account may hold: enough for every device a person owns, few
#: enough that a hijacked session cannot bury an account in keys an admin must sort through.
DEFAULT_MAX_CREDENTIALS: Final = 20
MAX_CREDENTIALS_RANGE: Final = (1, 100)


class RecoveryReason(StrEnum):
    """Why the policy refuses a recovery (``policy_denied`` reasons). Never renamed.

    Apart from :class:`~authsvc.policy.evaluate.ReasonCode`: no authenticator is judged.
    """

    RECOVERY_CODES_NOT_ALLOWED = "recovery_codes_not_allowed"
    RECOVERY_LINKS_NOT_ALLOWED = "recovery_links_not_allowed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """The rules one group of users is held to, at registration and at every sign-in.

    ``allowed_aaguids``, ``max_false_accept_rate``, ``modalities`` and a non-zero
    ``min_certification_level`` need *proof* of the authenticator model (a trusted
    attestation and a signed MDS entry), whatever ``require_trusted_attestation`` says;
    see :func:`authsvc.policy.evaluate.evaluate`. Build policies from untrusted input only
    through :func:`authsvc.policy.document.parse_policy`, which checks ranges and refuses
    policies that nothing could satisfy.
    """

    name: str
    version: int
    user_verification: UserVerification = "preferred"
    #: None: either attachment (and a client that does not say) is fine
    attachment: Attachment | None = None
    require_trusted_attestation: bool = False
    #: None: any model; otherwise only these (lowercase, dashed) AAGUIDs, proven
    allowed_aaguids: frozenset[str] | None = None
    denied_aaguids: frozenset[str] = frozenset()
    #: refuse backup-eligible (syncable) credentials
    device_bound_only: bool = False
    #: the worst biometric false-accept rate tolerated, e.g. 2e-5 for 1 in 50,000
    max_false_accept_rate: float | None = None
    #: None: any; otherwise the model must offer at least one of these modalities
    modalities: frozenset[str] | None = None
    min_certification_level: int = 0
    #: None: every supported algorithm; otherwise only these COSE ids
    allowed_algorithms: frozenset[int] | None = None
    sign_count_regression: SignCountAction = "reject"
    #: how recent a user-verified assertion must be for a sensitive action
    step_up_max_age_seconds: int = 300
    #: how many passkeys (of any status) one account may hold; registering more is refused
    max_credentials: int = DEFAULT_MAX_CREDENTIALS
    #: whether the group's users may make and use one-time recovery codes (off for staff
    #: whose recovery should always go through a person)
    recovery_codes: bool = True
    #: whether an admin may issue the group's users a one-time registration link
    recovery_links: bool = True

    @classmethod
    def default(cls) -> Policy:
        """The built-in policy for groups without one: no requirement beyond the ceremony."""
        return cls(name="default", version=1)

    @property
    def needs_proof(self) -> bool:
        """True when some rule can only be met by a proven model, so attestation must be asked."""
        return (
            self.require_trusted_attestation
            or self.allowed_aaguids is not None
            or self.max_false_accept_rate is not None
            or self.modalities is not None
            or self.min_certification_level > 0
        )


def unsatisfiable(policy: Policy) -> list[str]:
    """Why no authenticator could ever meet ``policy`` (empty when some could).

    A policy that refuses everyone would lock a whole group out at its next sign-in, which is
    never what an administrator meant; one that contradicts itself (an AAGUID both allowed and
    denied) is refused too, since its reader cannot tell which was meant.
    """
    problems = []
    allowed = policy.allowed_aaguids
    if allowed is not None:
        if not allowed:
            problems.append("allowed_aaguids is empty, so no authenticator could be accepted")
        elif allowed <= policy.denied_aaguids:
            problems.append("every AAGUID in allowed_aaguids is also denied")
        problems.extend(
            f"AAGUID {aaguid} is both allowed and denied"
            for aaguid in sorted(allowed & policy.denied_aaguids)
        )
        if NIL_AAGUID in allowed:
            problems.append("allowed_aaguids lists the all-zero AAGUID, which names no model")
    if policy.allowed_algorithms is not None and not policy.allowed_algorithms:
        problems.append("allowed_algorithms is empty, so no credential key could be accepted")
    if policy.modalities is not None and not policy.modalities:
        problems.append("modalities is empty, so no authenticator could be accepted")
    return problems
