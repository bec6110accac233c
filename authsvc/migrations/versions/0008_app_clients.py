"""app clients: registered iOS and Android apps and their signing-certificate fingerprints

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

``app_clients`` holds each native app the ceremonies accept and the association files
publish; ``client_id`` is unique (an iOS app ID or an Android package name).
``app_fingerprints`` holds the SHA-256 of each Android signing certificate, unique across
apps: an ``android:apk-key-hash:`` origin is looked up through that index, once per
ceremony. Removing an app removes its fingerprints (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("platform", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=10), nullable=True),
        sa.Column("bundle_id", sa.String(length=155), nullable=True),
        sa.Column("package_name", sa.String(length=255), nullable=True),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_app_clients_client_id")),
    )
    op.create_table(
        "app_fingerprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_pk", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_pk"],
            ["app_clients.id"],
            name=op.f("fk_app_fingerprints_app_pk_app_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_fingerprints")),
        sa.UniqueConstraint("sha256", name=op.f("uq_app_fingerprints_sha256")),
    )
    op.create_index(
        op.f("ix_app_fingerprints_app_pk"), "app_fingerprints", ["app_pk"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_app_fingerprints_app_pk"), table_name="app_fingerprints")
    op.drop_table("app_fingerprints")
    op.drop_table("app_clients")
