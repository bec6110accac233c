"""audit chain: seq, prev_hash, hash and actor_user_id on audit_events; the audit_head row

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Events already stored are chained here in ``id`` order (seq 1, 2, ...) and the head is set
to the last of them, so ``authsvc.audit.chain.verify_chain`` passes right after the upgrade.
The encoding is the one documented in ``authsvc.audit.chain``, copied below rather than
imported: a landed revision must keep producing the same rows whatever the code becomes.

Offline (``alembic upgrade --sql``, PostgreSQL only) the hashes cannot be computed, so no
event is chained; the ``NOT NULL`` then makes the script fail on a database that already
has events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = bytes(32)
BATCH_SIZE = 1000

_events = sa.table(
    "audit_events",
    sa.column("id", sa.BigInteger()),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("event", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("code", sa.String()),
    sa.column("user_id", sa.Integer()),
    sa.column("credential_id", sa.LargeBinary()),
    sa.column("origin", sa.String()),
    sa.column("client_address", sa.String()),
    sa.column("detail", sa.Text()),
    sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.LargeBinary()),
    sa.column("hash", sa.LargeBinary()),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column("hash", sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column("actor_user_id", sa.Integer(), nullable=True))

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    if context.is_offline_mode():
        # PostgreSQL only (SQLite's batch mode needs a live connection). A bytes literal
        # would be rendered raw into the script, so the 32 zero bytes are spelled in SQL.
        op.execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'))"
        )
    else:
        seq, last_hash = _chain_existing()
        op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": last_hash}])

    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.LargeBinary(length=32), nullable=False)
        batch.alter_column("hash", existing_type=sa.LargeBinary(length=32), nullable=False)
        batch.create_unique_constraint(op.f("uq_audit_events_seq"), ["seq"])


def downgrade() -> None:
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("uq_audit_events_seq"), type_="unique")
        batch.drop_column("actor_user_id")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")


def _chain_existing() -> tuple[int, bytes]:
    """Give every stored event, in id order, its seq and hashes; return the chain's end."""
    bind = op.get_bind()
    set_chain = (
        sa.update(_events)
        .where(_events.c.id == sa.bindparam("row_id"))
        .values(
            seq=sa.bindparam("new_seq"),
            prev_hash=sa.bindparam("new_prev_hash"),
            hash=sa.bindparam("new_hash"),
        )
    )
    seq, prev_hash, last_id = 0, GENESIS_HASH, None
    while True:
        batch = sa.select(_events).order_by(_events.c.id).limit(BATCH_SIZE)
        if last_id is not None:
            batch = batch.where(_events.c.id > last_id)
        rows = bind.execute(batch).all()
        if not rows:
            return seq, prev_hash
        chained = []
        for row in rows:
            seq += 1
            digest = hashlib.sha256(prev_hash + _encode(seq, row)).digest()
            chained.append(
                {"row_id": row.id, "new_seq": seq, "new_prev_hash": prev_hash, "new_hash": digest}
            )
            prev_hash = digest
        bind.execute(set_chain, chained)
        last_id = rows[-1].id


def _encode(seq: int, row: sa.Row[tuple[object, ...]]) -> bytes:
    """The chain encoding, version of this revision: compact sorted ASCII JSON."""
    at = row.occurred_at
    if not isinstance(at, datetime):  # pragma: no cover - the column is NOT NULL
        raise TypeError(f"audit event {row.id} has no occurred_at")
    # SQLite hands back the stored UTC value naive; PostgreSQL an aware one
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    credential_id = row.credential_id
    document = {
        "seq": seq,
        "occurred_at": at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z",
        "event": row.event,
        "outcome": row.outcome,
        "code": row.code,
        "user_id": row.user_id,
        "actor_user_id": None,  # the column is new: nobody is recorded as actor yet
        "credential_id": None if credential_id is None else bytes(credential_id).hex(),
        "origin": row.origin,
        "client_address": row.client_address,
        "detail": row.detail,
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")
