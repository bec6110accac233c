"""Hypothesis strategies: valid policies, arbitrary facts and arbitrary JSON values."""

from __future__ import annotations

from hypothesis import strategies as st

from authsvc.algorithms import SUPPORTED
from authsvc.policy.facts import COMPROMISED_STATUSES, AuthenticatorMetadata, CredentialFacts
from authsvc.policy.model import (
    ATTACHMENT_VALUES,
    KNOWN_MODALITIES,
    SIGN_COUNT_ACTIONS,
    USER_VERIFICATION_VALUES,
    Policy,
    unsatisfiable,
)
from tests.unit.policy.factories import CERTIFIED_FINGERPRINT, NIL, YUBIKEY_5_NFC

# a few fixed AAGUIDs so that policies and facts often meet, plus random ones
aaguids = st.sampled_from([CERTIFIED_FINGERPRINT, YUBIKEY_5_NFC, NIL]) | st.uuids().map(str)
modalities = st.sampled_from(sorted(KNOWN_MODALITIES))
algorithms = st.sampled_from(SUPPORTED)
rates = st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True)
statuses = st.sampled_from(
    [*sorted(COMPROMISED_STATUSES), "FIDO_CERTIFIED", "FIDO_CERTIFIED_L2", "UPDATE_AVAILABLE"]
)

any_policies = st.builds(
    Policy,
    name=st.just("generated"),
    version=st.integers(1, 2**31 - 1),
    user_verification=st.sampled_from(USER_VERIFICATION_VALUES),
    attachment=st.none() | st.sampled_from(ATTACHMENT_VALUES),
    require_trusted_attestation=st.booleans(),
    allowed_aaguids=st.none() | st.frozensets(aaguids, max_size=4),
    denied_aaguids=st.frozensets(aaguids, max_size=4),
    device_bound_only=st.booleans(),
    max_false_accept_rate=st.none() | rates,
    modalities=st.none() | st.frozensets(modalities, max_size=4),
    min_certification_level=st.integers(0, 3),
    allowed_algorithms=st.none() | st.frozensets(algorithms, max_size=4),
    sign_count_regression=st.sampled_from(SIGN_COUNT_ACTIONS),
    step_up_max_age_seconds=st.integers(10, 86_400),
    max_credentials=st.integers(1, 100),
    recovery_codes=st.booleans(),
    recovery_links=st.booleans(),
)
#: the policies parse_policy accepts
valid_policies = any_policies.filter(lambda p: not unsatisfiable(p))

metadata_entries = st.builds(
    AuthenticatorMetadata,
    aaguid=st.none() | aaguids,
    description=st.text(max_size=20),
    statuses=st.lists(statuses, max_size=3).map(tuple),
    latest_status=st.none() | statuses,
    certification_level=st.integers(0, 3),
    modalities=st.frozensets(modalities | st.sampled_from(["none", "all"]), max_size=4),
    worst_far=st.none() | st.floats(min_value=0.0, max_value=1.0),
    from_mds=st.booleans(),
)

any_facts = st.builds(
    CredentialFacts,
    aaguid=aaguids,
    aaguid_proven=st.booleans(),
    trust=st.sampled_from(["none", "self", "untrusted", "trusted"]),
    attachment=st.none() | st.sampled_from(ATTACHMENT_VALUES),
    backup_eligible=st.booleans(),
    algorithm=algorithms | st.integers(-70000, 70000),
    user_verified=st.booleans(),
    metadata=st.none() | metadata_entries,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=40)
    | aaguids
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=12,
)
