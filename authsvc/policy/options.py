"""What the options of a ceremony must say so that a policy-compliant credential can result.

Options are only requests to the client, so nothing here enforces anything: evaluation
(:func:`authsvc.policy.evaluate.evaluate`) does. But options that contradict the policy would
send users through a ceremony that is then refused, so the service builds them from here.

A caller (an API client, or the conformance tool) may ask for its own values. The policy can
only *tighten* them: a request for "discouraged" user verification under a "required" policy
yields "required", and a request for a platform authenticator under a cross-platform policy
yields cross-platform. Where the policy has no rule the request stands; user verification
"preferred" (the default) or "discouraged" is wording, not a rule. An unrecognised
requested value is ignored, as WebAuthn clients ignore unknown enumeration values; the web
layer refuses it earlier anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from authsvc import algorithms
from authsvc.policy.model import (
    ATTACHMENT_VALUES,
    Attachment,
    Policy,
    UserVerification,
)

AttestationConveyance = Literal["none", "direct"]
ResidentKey = Literal["required", "preferred", "discouraged"]

_UV_ORDER: Final[tuple[UserVerification, ...]] = ("discouraged", "preferred", "required")
_RK_ORDER: Final[tuple[ResidentKey, ...]] = ("discouraged", "preferred", "required")

#: WebAuthn L3 ``hints`` for each attachment, so the browser offers the right kind first
ATTACHMENT_HINTS: Final[dict[Attachment, tuple[str, ...]]] = {
    "platform": ("client-device",),
    "cross-platform": ("security-key",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionsHints:
    """The policy-dependent parts of ``PublicKeyCredentialCreationOptions``.

    ``attachment`` goes to ``authenticatorSelection.authenticatorAttachment`` (None: omit),
    ``algorithms`` to ``pubKeyCredParams`` in preference order.
    """

    user_verification: UserVerification
    attachment: Attachment | None
    attestation: AttestationConveyance
    hints: tuple[str, ...]
    resident_key: ResidentKey
    algorithms: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AssertionHints:
    """The policy-dependent parts of ``PublicKeyCredentialRequestOptions``."""

    user_verification: UserVerification
    hints: tuple[str, ...]


def tighten_user_verification(policy: Policy, requested: str | None) -> UserVerification:
    """ "required" when the policy requires it, else the request, else the policy's wording.

    Only "required" is a requirement (evaluation refuses nothing else), so under a
    "preferred" or "discouraged" policy a caller may ask for any of the three.
    """
    if policy.user_verification == "required":
        return "required"
    return next((v for v in _UV_ORDER if v == requested), policy.user_verification)


def tighten_attachment(policy: Policy, requested: str | None) -> Attachment | None:
    """The policy's attachment if it has one (a request cannot change it), else the request."""
    if policy.attachment is not None:
        return policy.attachment
    for value in ATTACHMENT_VALUES:
        if requested == value:
            return value
    return None


def tighten_attestation(policy: Policy, requested: str | None) -> AttestationConveyance:
    """``direct`` when the policy needs proof of the model, or when the caller asks for it.

    Only "none" and "direct" are ever emitted: "indirect" lets the client anonymise the
    statement, which can never prove a model, and "enterprise" may identify the device.
    """
    return "direct" if policy.needs_proof or requested == "direct" else "none"


def registration_hints(
    policy: Policy,
    *,
    offered: tuple[int, ...] = algorithms.DEFAULT,
    user_verification: str | None = None,
    attachment: str | None = None,
    attestation: str | None = None,
    resident_key: str | None = None,
) -> OptionsHints:
    """What registration options must say under ``policy``, given the caller's requests.

    A resident key is "preferred" unless asked otherwise: the policy has no rule for it, and
    discoverable credentials are what make passkeys work without a username. ``offered`` is
    the service's ``ALGORITHMS`` in preference order; the policy's ``allowed_algorithms``
    narrows it and never adds to it. The result may be empty: the caller must then refuse,
    since an empty ``pubKeyCredParams`` tells the client to pick ES256 or RS256 itself.
    """
    chosen_attachment = tighten_attachment(policy, attachment)
    allowed = policy.allowed_algorithms
    return OptionsHints(
        user_verification=tighten_user_verification(policy, user_verification),
        attachment=chosen_attachment,
        attestation=tighten_attestation(policy, attestation),
        hints=ATTACHMENT_HINTS[chosen_attachment] if chosen_attachment else (),
        resident_key=next((v for v in _RK_ORDER if v == resident_key), "preferred"),
        algorithms=tuple(a for a in offered if allowed is None or a in allowed),
    )


def authentication_hints(
    policy: Policy, *, user_verification: str | None = None, step_up: bool = False
) -> AssertionHints:
    """What assertion options must say under ``policy``.

    A step-up (a sensitive action) always requires user verification, since its point is a
    fresh proof that the user, not just the device, is present.
    """
    uv: UserVerification = (
        "required" if step_up else tighten_user_verification(policy, user_verification)
    )
    return AssertionHints(
        user_verification=uv,
        hints=ATTACHMENT_HINTS[policy.attachment] if policy.attachment else (),
    )
