"""What an operator does from the command line, audited like everything else."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from authsvc.audit.chain import ChainReport, verify_chain
from authsvc.errors import Conflict, NotFound
from authsvc.services.audited import Subject, run_audited
from authsvc.services.context import Caller, Services
from authsvc.storage import accounts, metadata_blobs
from authsvc.storage.db import transaction
from authsvc.trust.anchors import TrustAnchors
from authsvc.trust.metadata import index_blob, verify_blob

#: The audit log's "who" for commands run on the server itself.
CLI = Caller(binding="cli", client_address="cli")


def promote_admin(services: Services, username: str) -> int:
    """Give an existing user the admin role (the first admin has no one to ask)."""

    def work(conn: Connection, subject: Subject) -> int:
        user = accounts.user_by_username(conn, username)
        if user is None:
            raise NotFound("no such user: register a passkey for this username first")
        if user.role == "admin":
            raise Conflict("this user is an admin already")
        accounts.set_role(conn, user.id, "admin")
        subject.user_id = user.id
        subject.detail.update(role="admin", previous=user.role, by="command line")
        return user.id

    return run_audited(services, "admin.bootstrap", CLI, work)


@dataclass(frozen=True, slots=True)
class RefreshResult:
    no: int
    next_update: str
    entries: int
    verify_seconds: float
    index_seconds: float


def refresh_metadata(services: Services, blob: bytes, *, root: TrustAnchors) -> RefreshResult:
    """Verify a BLOB now and store it for every instance; raise MetadataRefused if it is not good.

    Nothing is stored unless the BLOB verifies (signature, chain to the FIDO root today,
    nextUpdate not passed), so the last good one stays in use.
    """
    verified = verify_blob(blob, root=root, at=services.now())
    index = index_blob(verified, source=f"blob no {verified.no}")

    def work(conn: Connection, subject: Subject) -> None:
        metadata_blobs.store(
            conn,
            blob=blob,
            sha256=verified.sha256,
            no=verified.no,
            next_update=verified.next_update,
            source=f"blob no {verified.no}",
            loaded_at=services.now(),
        )
        subject.detail.update(
            no=verified.no,
            next_update=verified.next_update.isoformat(),
            entries=len(index),
            sha256=verified.sha256,
        )

    run_audited(services, "metadata.refresh", CLI, work)
    services.metadata.force_check()
    return RefreshResult(
        no=verified.no,
        next_update=verified.next_update.isoformat(),
        entries=len(index),
        verify_seconds=verified.verify_seconds,
        index_seconds=index.load_seconds,
    )


def verify_audit(services: Services) -> ChainReport:
    with transaction(services.engine) as conn:
        return verify_chain(conn)
