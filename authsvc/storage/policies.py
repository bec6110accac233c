"""Policies and groups: versioned policy documents, and which group follows which policy.

A policy version is never edited: a change is a new row (name, version + 1). A group points
at the *current* version row of the policy it follows, and creating a new version moves
every group that followed the old one, in the same transaction, so a sign-in needs only the
group's ``policy_id`` (joined with the credential row) and a cache keyed by that id.
Users without a group follow the built-in ``default`` group (id 1, made by the migration).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from authsvc.errors import Conflict, NotFound
from authsvc.storage.models import groups, policies, users
from authsvc.storage.prepared import Prepared

DEFAULT_GROUP_ID: Final = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRow:
    id: int
    name: str
    version: int
    document: dict[str, Any]
    created_at: datetime
    created_by: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRow:
    id: int
    name: str
    policy_id: int
    policy_name: str
    policy_version: int
    members: int


def _policy(row: Any) -> PolicyRow:
    return PolicyRow(
        id=row.id,
        name=row.name,
        version=row.version,
        document=json.loads(row.document),
        created_at=row.created_at,
        created_by=row.created_by,
    )


def get_policy(conn: Connection, policy_id: int) -> PolicyRow | None:
    row = conn.execute(select(policies).where(policies.c.id == policy_id)).one_or_none()
    return None if row is None else _policy(row)


def current_policy(conn: Connection, name: str) -> PolicyRow | None:
    """The latest version of the named policy."""
    row = conn.execute(
        select(policies).where(policies.c.name == name).order_by(policies.c.version.desc()).limit(1)
    ).one_or_none()
    return None if row is None else _policy(row)


def policy_versions(conn: Connection, name: str) -> list[PolicyRow]:
    rows = conn.execute(
        select(policies).where(policies.c.name == name).order_by(policies.c.version)
    )
    return [_policy(r) for r in rows]


def list_current_policies(conn: Connection) -> list[PolicyRow]:
    latest = (
        select(policies.c.name, func.max(policies.c.version).label("version"))
        .group_by(policies.c.name)
        .subquery()
    )
    rows = conn.execute(
        select(policies)
        .join(
            latest,
            (policies.c.name == latest.c.name) & (policies.c.version == latest.c.version),
        )
        .order_by(policies.c.name)
    )
    return [_policy(r) for r in rows]


def add_policy_version(
    conn: Connection,
    *,
    name: str,
    document: dict[str, Any],
    created_at: datetime,
    created_by: int | None,
    expect_new: bool,
) -> PolicyRow:
    """Store the next version of ``name`` and move the groups that followed it.

    ``expect_new`` refuses (Conflict) a name that exists already, or (NotFound) a new
    version of one that does not; the version number comes from the stored ones, and the
    unique (name, version) constraint turns a concurrent writer's race into Conflict.
    """
    previous = current_policy(conn, name)
    if expect_new and previous is not None:
        raise Conflict("a policy with this name exists; add a version instead")
    if not expect_new and previous is None:
        raise NotFound("no policy with this name")
    version = 1 if previous is None else previous.version + 1
    try:
        with conn.begin_nested():
            pk: int = conn.execute(
                insert(policies).returning(policies.c.id),
                {
                    "name": name,
                    "version": version,
                    "document": json.dumps(document, sort_keys=True, separators=(",", ":")),
                    "created_at": created_at,
                    "created_by": created_by,
                },
            ).scalar_one()
    except IntegrityError as exc:
        raise Conflict("another version of this policy was stored at the same time") from exc
    if previous is not None:
        conn.execute(update(groups).where(groups.c.policy_id == previous.id).values(policy_id=pk))
    row = get_policy(conn, pk)
    assert row is not None  # noqa: S101 - just inserted in this transaction
    return row


_MEMBERS = (
    select(func.count(users.c.id))
    .where(func.coalesce(users.c.group_id, DEFAULT_GROUP_ID) == groups.c.id)
    .scalar_subquery()
)
_GROUPS = select(
    groups.c.id,
    groups.c.name,
    groups.c.policy_id,
    policies.c.name.label("policy_name"),
    policies.c.version.label("policy_version"),
    _MEMBERS.label("members"),
).join_from(groups, policies, groups.c.policy_id == policies.c.id)


def _group(row: Any) -> GroupRow:
    return GroupRow(
        id=row.id,
        name=row.name,
        policy_id=row.policy_id,
        policy_name=row.policy_name,
        policy_version=row.policy_version,
        members=row.members,
    )


def list_groups(conn: Connection) -> list[GroupRow]:
    return [_group(r) for r in conn.execute(_GROUPS.order_by(groups.c.name))]


def get_group(conn: Connection, name: str) -> GroupRow | None:
    row = conn.execute(_GROUPS.where(groups.c.name == name)).one_or_none()
    return None if row is None else _group(row)


def create_group(conn: Connection, *, name: str, policy_id: int, created_at: datetime) -> GroupRow:
    try:
        with conn.begin_nested():
            conn.execute(
                insert(groups),
                {"name": name, "policy_id": policy_id, "created_at": created_at},
            )
    except IntegrityError as exc:
        raise Conflict("a group with this name exists") from exc
    group = get_group(conn, name)
    assert group is not None  # noqa: S101 - just inserted in this transaction
    return group


def assign_policy(conn: Connection, *, group_id: int, policy_id: int) -> None:
    conn.execute(update(groups).where(groups.c.id == group_id).values(policy_id=policy_id))


def groups_following(conn: Connection, policy_name: str) -> list[int]:
    """Ids of the groups whose current policy is (a version of) ``policy_name``."""
    rows = conn.execute(
        select(groups.c.id)
        .join_from(groups, policies, groups.c.policy_id == policies.c.id)
        .where(policies.c.name == policy_name)
    )
    return [r.id for r in rows]


# Every sign-in's options read it, on every path alike: run through Prepared.
_DEFAULT_POLICY_ID: Final = Prepared(
    select(groups.c.policy_id).where(groups.c.id == DEFAULT_GROUP_ID)
)


def default_policy_id(conn: Connection) -> int:
    """The current policy row of the default group (which the migration creates)."""
    row = _DEFAULT_POLICY_ID.fetchone(conn, {})
    if row is None:  # pragma: no cover - the default group is never deleted
        raise LookupError("the default group is missing")
    return int(row[0])


def policy_id_for_user(conn: Connection, user_id: int | None) -> int:
    """The current policy row of the user's group; the default group's for no user."""
    query = select(groups.c.policy_id).where(groups.c.id == DEFAULT_GROUP_ID)
    if user_id is not None:
        query = (
            select(groups.c.policy_id)
            .select_from(
                users.join(groups, groups.c.id == func.coalesce(users.c.group_id, DEFAULT_GROUP_ID))
            )
            .where(users.c.id == user_id)
        )
    found: int | None = conn.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound("no such user")
    return found
