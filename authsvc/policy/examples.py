"""Example policy documents, exactly as an administrator would send them to the admin API.

They are JSON text rather than dicts so that nobody can mutate a shared constant, and so that
they exercise the same path as a real request body (``json.loads`` then ``parse_policy``).
The tests check that each one parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

#: Employees: device-bound authenticators of a proven, certified model whose biometric is at
#: least as good as 1 false accept in 50,000; platform or roaming. Note that a model with no
#: biometric (a PIN-only key) has no false-accept rate and so is refused.
STAFF: Final = """{
  "user_verification": "required",
  "require_trusted_attestation": true,
  "device_bound_only": true,
  "max_false_accept_rate": 2e-05,
  "min_certification_level": 1,
  "sign_count_regression": "lock",
  "step_up_max_age_seconds": 300
}"""

#: The public: any passkey, synced ones included, as long as the user is verified.
CUSTOMERS: Final = """{
  "user_verification": "required"
}"""

#: Face recognition of a proven model with a false-accept rate of 1 in 1,000,000 or better.
HIGH_ASSURANCE_FACE: Final = """{
  "user_verification": "required",
  "require_trusted_attestation": true,
  "modalities": ["face"],
  "max_false_accept_rate": 1e-06,
  "allowed_algorithms": [-7, -257],
  "step_up_max_age_seconds": 120
}"""

#: Roaming security keys of a few proven Yubico and Google models, never synced.
SECURITY_KEYS_ONLY: Final = """{
  "user_verification": "required",
  "attachment": "cross-platform",
  "require_trusted_attestation": true,
  "device_bound_only": true,
  "allowed_aaguids": [
    "cb69481e-8ff7-4039-93ec-0a2729a154a8",
    "ee882879-721c-4913-9775-3dfcce97072a",
    "fa2b99dc-9e39-4257-8f92-4a30d23c4118",
    "2fc0579f-8113-47ea-b116-bb5a8db9202a",
    "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"
  ],
  "sign_count_regression": "lock"
}"""

#: every example by the name it would be stored under
EXAMPLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "staff": STAFF,
        "customers": CUSTOMERS,
        "high-assurance-face": HIGH_ASSURANCE_FACE,
        "security-keys-only": SECURITY_KEYS_ONLY,
    }
)
