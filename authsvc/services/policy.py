"""Policy at the ceremonies: which policy applies, the facts it judges, and the refusal.

A sign-in reads the user's group policy id with the credential row (one statement) and
finds the parsed policy in a per-process cache keyed by that id: a policy is never parsed
per sign-in, and a new version (a new id) takes effect at the next ceremony.
"""

from __future__ import annotations

from typing import Any

from fido2.webauthn import Aaguid
from sqlalchemy import Connection

from authsvc.errors import PolicyDenied
from authsvc.policy.evaluate import Decision, evaluate
from authsvc.policy.facts import CredentialFacts
from authsvc.policy.model import Policy
from authsvc.services.context import Services
from authsvc.storage import policies as policy_store
from authsvc.storage.records import CredentialRecord


def policy_by_id(services: Services, conn: Connection, policy_id: int) -> Policy:
    """The parsed policy stored as ``policy_id``; parsed once per process."""
    cached = services.policies.get(policy_id)
    if cached is not None:
        return cached
    row = policy_store.get_policy(conn, policy_id)
    if row is None:  # a group's policy row is never deleted; this is a broken database
        raise LookupError(f"policy {policy_id} is missing")
    return services.policies.put(policy_id, row.document, name=row.name, version=row.version)


def policy_for_user(services: Services, conn: Connection, user_id: int | None) -> Policy:
    """The policy of the user's group; the default group's for a user not yet stored."""
    return policy_by_id(services, conn, policy_store.policy_id_for_user(conn, user_id))


def facts(
    services: Services,
    *,
    aaguid: bytes,
    proven: bool,
    key_id: str | None,
    trust: str,
    attachment: str | None,
    backup_eligible: bool,
    algorithm: int,
    user_verified: bool,
) -> CredentialFacts:
    """What a policy sees of a credential, with today's metadata for its model."""
    text = str(Aaguid(aaguid))
    return CredentialFacts(
        aaguid=text,
        aaguid_proven=proven,
        trust=trust,
        attachment=attachment,
        backup_eligible=backup_eligible,
        algorithm=algorithm,
        user_verified=user_verified,
        metadata=services.metadata.metadata_for(text, key_id, proven=proven),
        attestation_key_id=key_id,
    )


def credential_facts(
    services: Services,
    cred: CredentialRecord,
    *,
    user_verified: bool,
) -> CredentialFacts:
    """The facts of a stored credential at a sign-in (or a dry run)."""
    return facts(
        services,
        aaguid=cred.aaguid,
        proven=cred.aaguid_proven,
        key_id=cred.attestation_key_id,
        trust=cred.trust,
        attachment=cred.attachment,
        backup_eligible=cred.backup_eligible,
        algorithm=cred.algorithm,
        user_verified=user_verified,
    )


def enforce(policy: Policy, facts: CredentialFacts, *, ceremony: str) -> Decision:
    """Evaluate; raise PolicyDenied (with every reason) when the policy refuses."""
    decision = evaluate(policy, facts, ceremony=ceremony)  # type: ignore[arg-type]
    if not decision.allowed:
        raise PolicyDenied(
            f"policy {policy.name} v{policy.version} refuses this authenticator",
            reasons=[{"code": r.code, "message": r.message} for r in decision.reasons],
        )
    return decision


def decision_detail(policy: Policy) -> dict[str, Any]:
    return {"policy": policy.name, "policy_version": policy.version}
