"""Admin use cases: every call is authorised, audited in its own transaction, and the
sensitive ones (policy changes and assignments, membership, roles, credential status and
deletion) need a fresh user-verified assertion: a *step-up* within the admin's own policy
window. An admin cannot change their own role or group, and the last active admin cannot
be demoted, so the admin API can neither lock itself out nor be loosened from within.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from sqlalchemy import Connection

from authsvc.errors import (
    AuthError,
    Conflict,
    Forbidden,
    Malformed,
    NotFound,
    StepUpRequired,
    Unauthenticated,
)
from authsvc.policy.document import PolicyInvalid, parse_policy, policy_document
from authsvc.policy.evaluate import evaluate
from authsvc.policy.model import Policy
from authsvc.services import sessions
from authsvc.services.audited import Subject, run_audited
from authsvc.services.context import Caller, Services
from authsvc.services.policy import credential_facts, policy_by_id
from authsvc.storage import accounts
from authsvc.storage import policies as policy_store
from authsvc.storage.policies import GroupRow, PolicyRow
from authsvc.storage.records import CredentialStatus, Role

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in admin: who, from where, and when they last verified (epoch seconds).

    ``recovered``: the session was signed in by account recovery and has not used a
    passkey since; it may not use the admin API at all (``step_up_required``).
    """

    user_id: int | None
    role: str | None
    verified_at: float | None
    caller: Caller
    recovered: bool = False


def run_admin(
    services: Services,
    actor: Actor,
    action: str,
    work: Callable[[Connection, Subject], T],
    *,
    step_up: bool = False,
    target_user_id: int | None = None,
) -> T:
    """Check the role (and the step-up), run ``work``, audit the call as ``admin.<action>``.

    Every check runs inside the audited transaction, so a refusal (anonymous, not an admin,
    a change to the admin's own account, a stale step-up, or whatever ``work`` raises) is
    one audit row with its code, as access-control failures must be logged. The work's
    writes come after its own checks, so a refusal leaves nothing else behind.

    ``target_user_id`` is the account the call changes: it is named in the audit row, and
    an admin may not change their own (``forbidden``), so a hijacked admin session cannot
    loosen the group policy or the role that governs its own step-up.
    """

    def checked(conn: Connection, subject: Subject) -> T:
        subject.actor_user_id = actor.user_id
        subject.user_id = target_user_id
        _check_admin(actor)
        if target_user_id is not None and target_user_id == actor.user_id:
            raise Forbidden("admins cannot change their own account; another admin must")
        if step_up:
            require_step_up(services, conn, actor)
        return work(conn, subject)

    return run_audited(services, f"admin.{action}", actor.caller, checked)


def _check_admin(actor: Actor) -> None:
    if actor.user_id is None:
        raise Unauthenticated
    if actor.role != Role.ADMIN:
        raise Forbidden("this needs the admin role")
    if actor.recovered:
        raise StepUpRequired("a recovered session cannot use the admin API: sign in with a passkey")


def authorize(services: Services, actor: Actor, action: str) -> None:
    """Refuse, and audit, a caller who is not a signed-in admin.

    The HTTP layer calls this before it reads any of the request, so an anonymous or
    non-admin caller learns nothing of the admin API's schema from its error messages.
    An admin passes without a row: the call they make is audited by :func:`run_admin`.
    """
    try:
        _check_admin(actor)
    except AuthError as exc:
        refuse(services, actor, action, exc)


def refuse(services: Services, actor: Actor, action: str, error: AuthError) -> NoReturn:
    """Audit a call refused before its use case ran (``admin.<action>``), then raise ``error``.

    Its own transaction holds only the audit row: the refusal changes nothing else.
    """

    def record(_conn: Connection, subject: Subject) -> NoReturn:
        subject.actor_user_id = actor.user_id
        raise error

    run_audited(services, f"admin.{action}", actor.caller, record)


def require_step_up(services: Services, conn: Connection, actor: Actor) -> None:
    """Refuse unless the actor verified (UV) within their own policy's step-up window.

    ``actor.verified_at`` is the acting session's record's last user-verified assertion
    (see :mod:`authsvc.services.sessions`), the same fact every account change checks.
    """
    assert actor.user_id is not None  # noqa: S101 - run_admin checked it
    sessions.require_step_up(services, conn, actor.user_id, actor.verified_at)


def parse_checked(document: object, *, name: str, version: int) -> Policy:
    """A policy from an admin's document, or Malformed listing every problem (audited)."""
    try:
        return parse_policy(document, name=name, version=version)
    except PolicyInvalid as exc:
        raise Malformed("; ".join(exc.problems)) from exc


def parse_document(document: object, *, name: str, version: int) -> dict[str, Any]:
    """A policy document as stored: parsed, checked and normalised, or Malformed."""
    return policy_document(parse_checked(document, name=name, version=version))


def create_policy(services: Services, actor: Actor, name: str, document: object) -> PolicyRow:
    def work(conn: Connection, subject: Subject) -> PolicyRow:
        stored = parse_document(document, name=name, version=1)
        row = policy_store.add_policy_version(
            conn,
            name=name,
            document=stored,
            created_at=services.now(),
            created_by=actor.user_id,
            expect_new=True,
        )
        subject.detail.update(policy=name, version=row.version, document=stored)
        return row

    return run_admin(services, actor, "policy.create", work, step_up=True)


def add_policy_version(services: Services, actor: Actor, name: str, document: object) -> PolicyRow:
    def work(conn: Connection, subject: Subject) -> PolicyRow:
        current = policy_store.current_policy(conn, name)
        if current is None:
            raise NotFound("no policy with this name")
        stored = parse_document(document, name=name, version=current.version + 1)
        row = policy_store.add_policy_version(
            conn,
            name=name,
            document=stored,
            created_at=services.now(),
            created_by=actor.user_id,
            expect_new=False,
        )
        subject.detail.update(
            policy=name, version=row.version, previous=current.document, document=stored
        )
        return row

    return run_admin(services, actor, "policy.version", work, step_up=True)


def dry_run(services: Services, actor: Actor, name: str, document: object | None) -> dict[str, Any]:
    """Who the policy (or a draft of its next version) would refuse, and why."""

    def work(conn: Connection, subject: Subject) -> dict[str, Any]:
        current = policy_store.current_policy(conn, name)
        if current is None:
            raise NotFound("no policy with this name")
        policy = (
            parse_checked(document, name=name, version=current.version + 1)
            if document is not None
            else policy_by_id(services, conn, current.id)
        )
        groups = policy_store.groups_following(conn, name)
        refused: list[dict[str, Any]] = []
        checked = 0
        for cred in accounts.credentials_in_groups(conn, groups):
            checked += 1
            decision = evaluate(
                policy,
                credential_facts(services, cred, user_verified=True),
                ceremony="authentication",
            )
            if not decision.allowed:
                refused.append(
                    {
                        "credential": cred.id,
                        "user": cred.user_id,
                        "username": cred.username,
                        "reasons": [
                            {"code": r.code, "message": r.message} for r in decision.reasons
                        ],
                    }
                )
        subject.detail.update(policy=name, checked=checked, refused=len(refused))
        return {"policy": name, "groups": len(groups), "checked": checked, "refused": refused}

    return run_admin(services, actor, "policy.dry_run", work)


def create_group(services: Services, actor: Actor, name: str, policy_name: str) -> GroupRow:
    def work(conn: Connection, subject: Subject) -> GroupRow:
        policy = policy_store.current_policy(conn, policy_name)
        if policy is None:
            raise NotFound("no policy with this name")
        subject.detail.update(group=name, policy=policy_name, version=policy.version)
        return policy_store.create_group(
            conn, name=name, policy_id=policy.id, created_at=services.now()
        )

    return run_admin(services, actor, "group.create", work, step_up=True)


def assign_policy(services: Services, actor: Actor, group_name: str, policy_name: str) -> GroupRow:
    def work(conn: Connection, subject: Subject) -> GroupRow:
        group = policy_store.get_group(conn, group_name)
        policy = policy_store.current_policy(conn, policy_name)
        if group is None or policy is None:
            raise NotFound("no such group or policy")
        policy_store.assign_policy(conn, group_id=group.id, policy_id=policy.id)
        subject.detail.update(
            group=group_name,
            policy=policy_name,
            version=policy.version,
            previous=f"{group.policy_name} v{group.policy_version}",
        )
        updated = policy_store.get_group(conn, group_name)
        assert updated is not None  # noqa: S101 - read back in this transaction
        return updated

    return run_admin(services, actor, "group.assign_policy", work, step_up=True)


def set_membership(services: Services, actor: Actor, user_id: int, group_name: str) -> None:
    def work(conn: Connection, subject: Subject) -> None:
        group = policy_store.get_group(conn, group_name)
        if group is None:
            raise NotFound("no such group")
        before = accounts.user_summary(conn, user_id)
        accounts.set_group(conn, user_id, group.id)
        subject.detail.update(group=group_name, previous=before.group)

    run_admin(services, actor, "user.group", work, step_up=True, target_user_id=user_id)


def set_role(services: Services, actor: Actor, user_id: int, role: str) -> None:
    """Give ``user_id`` a role; ``conflict`` if it would leave no active admin."""

    def work(conn: Connection, subject: Subject) -> None:
        if role not in accounts.ROLES:
            raise Malformed(f"role must be one of {', '.join(sorted(accounts.ROLES))}")
        before = accounts.user_summary(conn, user_id)
        if (
            before.role == Role.ADMIN
            and role != Role.ADMIN
            and not accounts.other_active_admins(conn, user_id)
        ):
            raise Conflict("the last active admin cannot be demoted")
        accounts.set_role(conn, user_id, role)
        subject.detail.update(role=role, previous=before.role)

    run_admin(services, actor, "user.role", work, step_up=True, target_user_id=user_id)


def set_credential_status(services: Services, actor: Actor, pk: int, status: str) -> None:
    if status not in accounts.CREDENTIAL_STATUSES:
        raise Malformed(f"status must be one of {', '.join(sorted(accounts.CREDENTIAL_STATUSES))}")

    def work(conn: Connection, subject: Subject) -> None:
        cred = accounts.credential_by_pk(conn, pk)
        accounts.set_credential_status(conn, pk, status)
        subject.user_id, subject.credential_id = cred.user_id, cred.credential_id
        subject.detail.update(status=status, previous=cred.status)
        if status != CredentialStatus.ACTIVE:  # a disabled or locked passkey keeps no session
            sessions.end_credential_sessions(services, conn, pk, subject)

    run_admin(services, actor, "credential.status", work, step_up=True)


def delete_credential(services: Services, actor: Actor, pk: int) -> None:
    def work(conn: Connection, subject: Subject) -> None:
        # ended (and counted) first: on SQL the delete would cascade to them unannounced
        sessions.end_credential_sessions(services, conn, pk, subject)
        cred = accounts.delete_credential(conn, pk)
        subject.user_id, subject.credential_id = cred.user_id, cred.credential_id

    run_admin(services, actor, "credential.delete", work, step_up=True)
