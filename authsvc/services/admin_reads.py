"""The admin API's reads: users, groups, policies, credentials, the audit log, metadata.

Each is a use case like the admin's changes in :mod:`authsvc.services.admin`: the caller
must be a signed-in admin (checked inside the audited transaction by
:func:`~authsvc.services.admin.run_admin`), and the read is recorded as ``admin.<action>``
whether it is answered or refused, since who looked at which accounts is part of the
record too. They change nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from authsvc.audit.chain import ChainReport, query, verify_chain
from authsvc.errors import NotFound
from authsvc.services.admin import Actor, run_admin
from authsvc.services.audited import Subject
from authsvc.services.context import Services
from authsvc.services.metadata import MetadataStatus
from authsvc.storage import accounts, policies
from authsvc.storage.accounts import UserSummary
from authsvc.storage.policies import GroupRow, PolicyRow
from authsvc.storage.records import CredentialRecord


def list_users(services: Services, actor: Actor, *, after_id: int, limit: int) -> list[UserSummary]:
    """Up to ``limit`` users by id, from the first id above ``after_id``."""
    return run_admin(
        services,
        actor,
        "user.list",
        lambda conn, _: accounts.list_users(conn, after_id=after_id, limit=limit),
    )


def list_groups(services: Services, actor: Actor) -> list[GroupRow]:
    """Every group, with the policy (name and current version) it follows."""
    return run_admin(services, actor, "group.list", lambda conn, _: policies.list_groups(conn))


def list_policies(services: Services, actor: Actor) -> list[PolicyRow]:
    """The current version of every policy."""
    return run_admin(
        services, actor, "policy.list", lambda conn, _: policies.list_current_policies(conn)
    )


def policy_versions(services: Services, actor: Actor, name: str) -> list[PolicyRow]:
    """Every version of the policy ``name``, oldest first; ``NotFound`` if there is none."""

    def versions(conn: Connection, _: Subject) -> list[PolicyRow]:
        found = policies.policy_versions(conn, name)
        if not found:
            raise NotFound("no policy with this name")
        return found

    return run_admin(services, actor, "policy.get", versions)


def list_credentials(
    services: Services, actor: Actor, *, user_id: int | None, after_id: int, limit: int
) -> list[CredentialRecord]:
    """Up to ``limit`` credentials by id after ``after_id``, of one user when ``user_id``."""
    return run_admin(
        services,
        actor,
        "credential.list",
        lambda conn, _: accounts.list_credentials(
            conn, user_id=user_id, after_id=after_id, limit=limit
        ),
    )


def audit_events(
    services: Services,
    actor: Actor,
    *,
    user_id: int | None,
    event: str | None,
    since: datetime | None,
    until: datetime | None,
    before_seq: int | None,
    limit: int,
) -> list[dict[str, object]]:
    """Audit events newest first, filtered (see :func:`authsvc.audit.chain.query`)."""
    return run_admin(
        services,
        actor,
        "audit.query",
        lambda conn, _: query(
            conn,
            user_id=user_id,
            event=event,
            since=since,
            until=until,
            limit=limit,
            before_seq=before_seq,
        ),
    )


def verify_audit_chain(services: Services, actor: Actor) -> ChainReport:
    """Recompute the audit log's hash chain (see :func:`authsvc.audit.chain.verify_chain`)."""
    return run_admin(services, actor, "audit.verify", lambda conn, _: verify_chain(conn))


def metadata_status(services: Services, actor: Actor) -> MetadataStatus:
    """The FIDO metadata in use: its source, BLOB number, next update, entries, staleness."""
    return run_admin(services, actor, "metadata.status", lambda _, __: services.metadata.status())
