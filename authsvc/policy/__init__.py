"""Policy: which authenticators, and how much assurance, a group of users accepts.

Plain Python with no I/O: a policy is versioned data (:mod:`.model`), parsed from an
administrator's hostile JSON (:mod:`.document`), evaluated against one credential at every
ceremony with machine-readable reasons (:mod:`.evaluate`), and turned into what ceremony
options must ask for (:mod:`.options`). :mod:`.facts` keeps proven and claimed knowledge apart.
"""

from authsvc.policy.cache import PolicyCache
from authsvc.policy.document import parse_policy, policy_document
from authsvc.policy.errors import PolicyInvalid
from authsvc.policy.evaluate import Decision, Reason, ReasonCode, evaluate, step_up_fresh
from authsvc.policy.facts import COMPROMISED_STATUSES, AuthenticatorMetadata, CredentialFacts
from authsvc.policy.model import Policy
from authsvc.policy.options import (
    AssertionHints,
    OptionsHints,
    authentication_hints,
    registration_hints,
)

__all__ = [
    "COMPROMISED_STATUSES",
    "AssertionHints",
    "AuthenticatorMetadata",
    "CredentialFacts",
    "Decision",
    "OptionsHints",
    "Policy",
    "PolicyCache",
    "PolicyInvalid",
    "Reason",
    "ReasonCode",
    "authentication_hints",
    "evaluate",
    "parse_policy",
    "policy_document",
    "registration_hints",
    "step_up_fresh",
]
