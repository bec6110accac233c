"""Run a ceremony's stored effects and its audit record in one transaction.

A ceremony that fails after its challenge was consumed must still commit two things: the
consumption (so the challenge cannot be tried again) and the audit record of the failure,
with the same ``code`` the caller gets. Its other writes (a new user, a credential) must
not. So the work runs inside the transaction, writes in savepoints, and the error is
re-raised only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection

from authsvc.audit.log import AuditEvent, append
from authsvc.ceremony.state import CeremonyKind, PendingCeremony
from authsvc.errors import AuthError, ChallengeUnknown, PolicyDenied
from authsvc.services.context import Caller, Services
from authsvc.storage.db import transaction

T = TypeVar("T")


@dataclass
class Subject:
    """Who and what the audit record is about, filled in as the work learns it."""

    user_id: int | None = None
    credential_id: bytes | None = None
    actor_user_id: int | None = None
    detail: dict[str, object] = field(default_factory=dict)


def run_audited(
    services: Services,
    event: str,
    caller: Caller,
    work: Callable[[Connection, Subject], T],
) -> T:
    """Run ``work`` in one transaction and record its outcome there; re-raise its AuthError."""
    subject = Subject()
    failure: AuthError | None = None
    with transaction(services.engine) as conn:
        try:
            result = work(conn, subject)
        except AuthError as exc:
            failure = exc
            if isinstance(exc, PolicyDenied):
                subject.detail["reasons"] = [r["code"] for r in exc.reasons]
        append(
            conn,
            AuditEvent(
                event=event,
                outcome="failure" if failure else "success",
                code=failure.code if failure else None,
                user_id=subject.user_id,
                actor_user_id=subject.actor_user_id,
                credential_id=subject.credential_id,
                origin=caller.origin,
                client_address=caller.client_address,
                detail=subject.detail or None,
            ),
            services.now(),
        )
    if failure is not None:
        raise failure
    return result


def finish_ceremony(
    services: Services,
    kind: CeremonyKind,
    *,
    ceremony_id: str | None,
    caller: Caller,
    credential_id: bytes,
    work: Callable[[Connection, PendingCeremony, Subject], T],
) -> T:
    """Consume the pending ceremony, check it is this session's and live, then run ``work``.

    The consumption, ``work``'s writes and the audit record of the outcome share one
    transaction (see :func:`run_audited`). A result with no ceremony in its session never
    reaches storage at all.
    """
    if ceremony_id is None:
        raise ChallengeUnknown(f"no {kind.value} was started in this session")

    def consume_then_work(conn: Connection, subject: Subject) -> T:
        subject.credential_id = credential_id
        pending = services.challenges.consume(conn, ceremony_id)
        if pending is None:
            raise ChallengeUnknown(f"this {kind.value} was already completed or never started")
        subject.user_id = pending.user_id
        pending.check_usable(kind=kind, binding=caller.binding, now=services.clock())
        return work(conn, pending, subject)

    return run_audited(services, kind.value, caller, consume_then_work)
