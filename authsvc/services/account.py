"""A signed-in user's own passkeys: list them, rename one, delete one.

Renaming and deleting are account changes: they need a fresh user-verified assertion on
this session (step-up) within the user's policy window, so a stolen or walk-up session
cannot quietly remove the owner's passkeys. Each is audited, refusals included, with the
user as both subject and actor. A credential of someone else is ``not_found``, exactly like
one that does not exist.
"""

from __future__ import annotations

from sqlalchemy import Connection

from authsvc.errors import Conflict, NotFound
from authsvc.services.audited import Subject, audited
from authsvc.services.context import Caller, Services
from authsvc.services.sessions import (
    CurrentSession,
    current,
    end_credential_sessions,
    require_step_up,
)
from authsvc.storage import accounts, user_state
from authsvc.storage import repositories as repo
from authsvc.storage.db import transaction
from authsvc.storage.records import CredentialRecord, CredentialStatus


def own_credentials(services: Services, caller: Caller) -> list[CredentialRecord]:
    with transaction(services.engine) as conn:
        session = current(services, conn, caller)
        return repo.list_credentials(conn, session.account.user_id)


def _own(conn: Connection, user_id: int, pk: int, subject: Subject) -> CredentialRecord:
    for cred in repo.list_credentials(conn, user_id):
        if cred.id == pk:
            subject.credential_id = cred.credential_id
            return cred
    raise NotFound("no such credential")


def _stepped_up(
    services: Services, conn: Connection, caller: Caller, subject: Subject
) -> CurrentSession:
    """The caller's session, once it is known to be live and stepped up."""
    session = current(services, conn, caller)
    user_id = session.account.user_id
    subject.user_id = subject.actor_user_id = user_id
    require_step_up(services, conn, user_id, session.record.verified_at)
    return session


def rename_credential(services: Services, caller: Caller, pk: int, name: str | None) -> None:
    with audited(services, "credential.rename", caller) as (conn, subject):
        session = _stepped_up(services, conn, caller, subject)
        cred = _own(conn, session.account.user_id, pk, subject)
        user_state.rename_credential(conn, pk, name)
        subject.detail.update(credential=pk, renamed=cred.name != name)


def delete_credential(services: Services, caller: Caller, pk: int) -> bool:
    """Delete one of the caller's passkeys; True if that ended the caller's own session.

    The last active passkey is kept (``conflict``): without one the account could never
    sign in again, and its name would stay taken for ever.
    """
    with audited(services, "credential.delete", caller) as (conn, subject):
        session = _stepped_up(services, conn, caller, subject)
        user_id = session.account.user_id
        cred = _own(conn, user_id, pk, subject)
        if (
            cred.status == CredentialStatus.ACTIVE
            and user_state.active_credential_count(conn, user_id) == 1
        ):
            raise Conflict("this is the account's last active passkey; add another first")
        end_credential_sessions(services, conn, pk, subject)
        accounts.delete_credential(conn, pk)
        subject.detail["credential"] = pk
        return session.record.credential_pk == pk
