"""One transaction for a use case's writes and the audit record of its outcome.

:func:`audited` is the runner, a context manager; :func:`ceremony` adds what every
ceremony result does first. What commits depends on how the body ends:

* it returns: its writes, and a ``success`` record;
* it raises an :class:`~authsvc.errors.AuthError`: the transaction still commits, with the
  record of the failure (the same ``code`` the caller gets) and every write made before
  the error. That is how the writes a failed ceremony must leave behind survive it: the
  challenge's consumption (made by :func:`ceremony` before the body runs, so it cannot be
  tried again) and a body's own deliberate writes (a credential locked after a regressed
  sign count). A body whose writes must not outlive its failure makes them in a
  savepoint (``conn.begin_nested()``: registration's new user and credential). The error
  is re-raised only after the commit;
* it raises anything else (a bug), or the database cannot be reached: everything rolls
  back, nothing is recorded, and the exception propagates (a database that is down as
  :class:`~authsvc.errors.Unavailable`, 503). An ``Unavailable`` from Redis, with the
  database up, is an AuthError like any refusal, and recorded as one.

The record's ``origin`` is the clientData origin, and only once the ceremony's own origin
check has passed it (:meth:`Subject.witnessing`): so it is always one of ``ORIGINS``, never
text a caller chose. A ceremony that fails earlier, and every event that is no ceremony
(admin calls, the command line), has none. The request's ``Origin`` header, which anyone
can set, goes into ``detail`` as ``claimed_origin``, labelled as what it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def audited(services: Services, event: str, caller: Caller) -> Iterator[tuple[Connection, Subject]]:
    """``with audited(services, "credential.rename", caller) as (conn, subject):`` runs the
    body in one transaction and appends the record of its outcome there (see the module
    docstring for what commits when the body fails); re-raises its AuthError after the commit.
    """
    subject = Subject()
    failure: AuthError | None = None
    with transaction(services.engine) as conn:
        try:
            yield conn, subject
        except AuthError as exc:
            failure = exc
        # survives a failure: the record of the outcome
        _append_outcome(
            services, conn, event=event, caller=caller, subject=subject, failure=failure
        )
    if failure is not None:
        raise failure


@contextmanager
def ceremony(
    services: Services,
    kind: CeremonyKind,
    *,
    ceremony_id: str | None,
    caller: Caller,
    credential_id: bytes,
) -> Iterator[tuple[Connection, PendingCeremony, Subject]]:
    """:func:`audited`, having first consumed the pending ceremony and checked that it is
    this session's and live; yields the connection, the ceremony and the audit subject.

    The consumption commits whatever the body does, with the record of the outcome, so a
    challenge is tried once. A result with no ceremony in its session never reaches
    storage at all (and is not recorded).
    """
    if ceremony_id is None:
        raise ChallengeUnknown(f"no {kind.value} was started in this session")
    with audited(services, kind.value, caller) as (conn, subject):
        subject.credential_id = credential_id
        pending = services.challenges.consume(conn, ceremony_id)  # survives a failure
        if pending is None:
            raise ChallengeUnknown(f"this {kind.value} was already completed or never started")
        subject.user_id = pending.user_id
        pending.check_usable(kind=kind, binding=caller.binding, now=services.clock())
        yield conn, pending, subject


def _append_outcome(
    services: Services,
    conn: Connection,
    *,
    event: str,
    caller: Caller,
    subject: Subject,
    failure: AuthError | None,
) -> None:
    if isinstance(failure, PolicyDenied):
        subject.detail["reasons"] = [r["code"] for r in failure.reasons]
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


def run_audited(
    services: Services,
    event: str,
    caller: Caller,
    work: Callable[[Connection, Subject], T],
) -> T:
    """``work`` run in :func:`audited`, for callers that pass the body as a function."""
    with audited(services, event, caller) as (conn, subject):
        return work(conn, subject)


def finish_ceremony(
    services: Services,
    kind: CeremonyKind,
    *,
    ceremony_id: str | None,
    caller: Caller,
    credential_id: bytes,
    work: Callable[[Connection, PendingCeremony, Subject], T],
) -> T:
    """``work`` run in :func:`ceremony`, for callers that pass the body as a function."""
    with ceremony(
        services, kind, ceremony_id=ceremony_id, caller=caller, credential_id=credential_id
    ) as (conn, pending, subject):
        return work(conn, pending, subject)
