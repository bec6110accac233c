"""What a successful ceremony establishes, chosen by its caller: a cookie or a token session.

The web and ``/api/v1`` run the same ceremony code (:mod:`authsvc.services.authentication`,
:mod:`authsvc.services.registration`): the same verification, policy, limits and audit.
They differ only in what a success starts, so that is a parameter: an :class:`Outcome`
whose ``start`` runs inside the ceremony's transaction (its rows commit with the sign
count, the credential and the audit record, or not at all) and whose ``committed`` runs
after the commit, for a store that cannot join the transaction (Redis sessions).

Both kinds are started from the same :class:`Established`: what the ceremony just proved
about the user and the credential, and nothing a caller sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection

from authsvc.ceremony.origins import OriginPolicy
from authsvc.ceremony.parsing import ClientData
from authsvc.ceremony.state import PendingCeremony
from authsvc.errors import OriginMismatch
from authsvc.services.app_clients import AppRef, ceremony_origins
from authsvc.services.audited import Subject
from authsvc.services.context import Caller, Services
from authsvc.services.sessions import OpenedSession, open_session, publish
from authsvc.services.tokens import TokenGrant, issue_tokens

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Established:
    """What a ceremony established: who, with which credential, how, and from which app.

    ``hardware_key`` (``amr`` ``hwk`` rather than ``swk``, RFC 8176) is true only for a
    device-bound key whose hardware is proven: its attestation chained to a trusted root
    (the AAGUID is proven, not claimed) and it is not backup-eligible. A synced passkey may
    live on any device its provider syncs to, and an unattested key may be software.
    """

    user_id: int
    user_handle: bytes
    credential_pk: int
    credential_id: bytes
    user_verified: bool
    hardware_key: bool
    app: AppRef | None


def hardware_key(*, aaguid_proven: bool, backup_eligible: bool) -> bool:
    return aaguid_proven and not backup_eligible


@dataclass(frozen=True, slots=True)
class Outcome(Generic[S]):
    """How a ceremony's success is turned into a session, and what follows the commit."""

    start: Callable[[Connection, Subject, Established], S]
    committed: Callable[[S], None]


def cookie_session(
    services: Services, caller: Caller, user_agent: str | None
) -> Outcome[OpenedSession]:
    """Sign the caller's cookie session in (or step it up) under a new id: the web's outcome."""

    def start(conn: Connection, subject: Subject, done: Established) -> OpenedSession:
        return open_session(
            services,
            conn,
            subject,
            caller=caller,
            user_agent=user_agent,
            user_id=done.user_id,
            credential_pk=done.credential_pk,
            user_verified=done.user_verified,
        )

    def committed(opened: OpenedSession) -> None:
        publish(services, opened)

    return Outcome(start, committed)


def token_session(services: Services, dpop_jkt: str | None) -> Outcome[TokenGrant]:
    """Start a token session (bound to ``dpop_jkt`` when the app sent a DPoP proof)."""

    def start(conn: Connection, subject: Subject, done: Established) -> TokenGrant:
        return issue_tokens(
            services,
            conn,
            subject,
            user_id=done.user_id,
            user_handle=done.user_handle,
            credential_pk=done.credential_pk,
            credential_id=done.credential_id,
            user_verified=done.user_verified,
            hardware_key=done.hardware_key,
            app=done.app,
            dpop_jkt=dpop_jkt,
        )

    def committed(_grant: TokenGrant) -> None:
        """Token sessions are SQL rows: they committed with the ceremony."""

    return Outcome(start, committed)


@dataclass(slots=True)
class CeremonyOrigins:
    """The origins a result may come from (watched for the audit), and its app.

    They are looked up before the ceremony runs, because its origin check needs them, but
    the lookup's own refusal (a ``clientId`` that names no registered app, or an Android
    app's with a web origin) and the app's name in the audit record wait for
    :meth:`settle`, which the ceremony's caller runs where the check belongs: once the
    credential record is identified (sign-in) or the holder has vouched (registration).
    """

    policy: OriginPolicy
    app: AppRef | None
    subject: Subject
    refused: OriginMismatch | None = None

    def settle(self) -> None:
        """Raise the lookup's refusal, if any; else name the app in the audit record."""
        if self.refused is not None:
            raise self.refused
        if self.app is not None:
            self.subject.detail["app"] = self.app.client_id


def origins_for(
    services: Services,
    conn: Connection,
    subject: Subject,
    pending: PendingCeremony,
    client_data: ClientData,
) -> CeremonyOrigins:
    """The origins this result may come from, with its app; see :class:`CeremonyOrigins`.

    A registered app's origin (``android:apk-key-hash:…`` of a registered fingerprint, or
    the web origin of an iOS app named by the options' ``clientId``) is accepted on top of
    ``ORIGINS``; the app is named in the audit record. A browser can never produce an
    ``android:`` origin, so the cookie endpoints accept them too at no cost.
    """
    try:
        origins, app = ceremony_origins(
            services, conn, origin=client_data.origin, client_id=pending.client_id
        )
    except OriginMismatch as refused:
        return CeremonyOrigins(subject.witnessing(services.origins), None, subject, refused)
    return CeremonyOrigins(subject.witnessing(origins), app, subject)
