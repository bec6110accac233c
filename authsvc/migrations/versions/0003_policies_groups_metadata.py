"""policies, groups and metadata BLOBs; user roles and groups; proven AAGUIDs on credentials

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Creates the built-in ``default`` policy (version 1: the permissive default of
``authsvc.policy.Policy.default()``, written out here so this revision never changes) and
the ``default`` group (id 1) that every user without a group follows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_POLICY = {
    "allowed_aaguids": None,
    "allowed_algorithms": None,
    "attachment": None,
    "denied_aaguids": [],
    "device_bound_only": False,
    "max_false_accept_rate": None,
    "min_certification_level": 0,
    "modalities": None,
    "require_trusted_attestation": False,
    "sign_count_regression": "reject",
    "step_up_max_age_seconds": 300,
    "user_verification": "preferred",
}


def upgrade() -> None:
    policies = op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint("name", "version", name="uq_policies_name_version"),
    )
    groups = op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policies.id"], name=op.f("fk_groups_policy_id_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_groups_name")),
    )
    op.create_index(op.f("ix_groups_policy_id"), "groups", ["policy_id"], unique=False)
    op.create_table(
        "metadata_blobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("next_update", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadata_blobs")),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=16), server_default="user", nullable=False)
        )
        batch.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_users_group_id_groups"), "groups", ["group_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(
            sa.Column("aaguid_proven", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("attestation_key_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True))

    now = datetime.now(UTC)
    op.bulk_insert(
        policies,
        [
            {
                "id": 1,
                "name": "default",
                "version": 1,
                "document": json.dumps(DEFAULT_POLICY, sort_keys=True, separators=(",", ":")),
                "created_at": now,
                "created_by": None,
            }
        ],
    )
    op.bulk_insert(groups, [{"id": 1, "name": "default", "policy_id": 1, "created_at": now}])
    if op.get_bind().dialect.name == "postgresql":  # explicit ids do not move the sequences
        op.execute("SELECT setval('policies_id_seq', (SELECT max(id) FROM policies))")
        op.execute("SELECT setval('groups_id_seq', (SELECT max(id) FROM groups))")


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("flagged_at")
        batch.drop_column("attestation_key_id")
        batch.drop_column("aaguid_proven")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("fk_users_group_id_groups"), type_="foreignkey")
        batch.drop_column("group_id")
        batch.drop_column("role")
    op.drop_table("metadata_blobs")
    op.drop_index(op.f("ix_groups_policy_id"), table_name="groups")
    op.drop_table("groups")
    op.drop_table("policies")
