"""Run a ceremony's stored effects and its audit record in one transaction.

A ceremony that fails after its challenge was consumed must still commit two things: the
consumption (so the challenge cannot be tried again) and the audit record of the failure,
with the same ``code`` the caller gets. Its other writes (a new user, a credential) must
not. So the work runs inside the transaction, writes in savepoints, and the error is
re-raised only after the commit.

The record's ``origin`` is the clientData origin, and only once the ceremony's own origin
check has passed it (:meth:`Subject.witnessing`): so it is always one of ``ORIGINS``, never
text a caller chose. A ceremony that fails earlier, and every event that is no ceremony
(admin calls, the command line), has none. The request's ``Origin`` header, which anyone
can set, goes into ``detail`` as ``claimed_origin``, labelled as what it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection

from authsvc.audit.log import AuditEvent, append
from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.parsing import ClientData
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
    #: the clientData origin (and top origin), set when the origin check passed it
    verified_origin: str | None = None
    verified_top_origin: str | None = None

    def witnessing(self, origins: OriginPolicy) -> OriginPolicy:
        """``origins``, checking as before, that also notes here each origin it accepts.

        Only the ceremony code knows when, in the spec's order, the origin is checked; the
        audit needs exactly "the check passed", so it watches the check itself rather than
        repeating it.
        """
        return _WitnessedOrigins(origins.origins, origins.top_origins, subject=self)


@dataclass(frozen=True, slots=True)
class _WitnessedOrigins(OriginPolicy):
    subject: Subject = field(kw_only=True)

    def check(self, client_data: ClientData) -> None:
        OriginPolicy.check(self, client_data)  # slots=True: zero-argument super() cannot work
        self.subject.verified_origin = client_data.origin
        self.subject.verified_top_origin = client_data.top_origin


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
        if subject.verified_top_origin is not None:
            subject.detail["top_origin"] = subject.verified_top_origin
        if caller.claimed_origin is not None:
            subject.detail["claimed_origin"] = caller.claimed_origin
        append(
            conn,
            AuditEvent(
                event=event,
                outcome="failure" if failure else "success",
                code=failure.code if failure else None,
                user_id=subject.user_id,
                actor_user_id=subject.actor_user_id,
                credential_id=subject.credential_id,
                origin=subject.verified_origin,
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
