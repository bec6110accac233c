"""token sessions: signing keys, token sessions, refresh tokens, DPoP proof ids

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

``signing_keys`` holds the access-token signing keys every instance shares (the private
key sealed under a key derived from ``SECRET_KEY``). ``token_sessions`` holds each app
sign-in's token session, tied to its user, credential and (optionally) app client with
``ON DELETE CASCADE``, so none outlives them; ``refresh_tokens`` holds the SHA-256 of its
current and spent refresh tokens (spent ones reveal reuse). ``dpop_proofs`` holds the ids
of accepted DPoP proofs while they could be replayed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("retired_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "token_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_pk", sa.Integer(), nullable=False),
        sa.Column("app_pk", sa.Integer(), nullable=True),
        sa.Column("dpop_jkt", sa.String(length=43), nullable=True),
        sa.Column("amr", sa.String(length=32), nullable=False),
        sa.Column("signed_in_at", sa.Double(), nullable=False),
        sa.Column("verified_at", sa.Double(), nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("refresh_expires_at", sa.Double(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_token_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["credential_pk"],
            ["credentials.id"],
            name=op.f("fk_token_sessions_credential_pk_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_pk"],
            ["app_clients.id"],
            name=op.f("fk_token_sessions_app_pk_app_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_sessions")),
        sa.UniqueConstraint("sid", name=op.f("uq_token_sessions_sid")),
    )
    for column in ("user_id", "credential_pk", "app_pk", "expires_at", "refresh_expires_at"):
        op.create_index(op.f(f"ix_token_sessions_{column}"), "token_sessions", [column])
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["token_sessions.id"],
            name=op.f("fk_refresh_tokens_session_id_token_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_refresh_tokens")),
    )
    op.create_index(op.f("ix_refresh_tokens_session_id"), "refresh_tokens", ["session_id"])
    op.create_table(
        "dpop_proofs",
        sa.Column("jti_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("jti_hash", name=op.f("pk_dpop_proofs")),
    )
    op.create_index(op.f("ix_dpop_proofs_expires_at"), "dpop_proofs", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dpop_proofs_expires_at"), table_name="dpop_proofs")
    op.drop_table("dpop_proofs")
    op.drop_index(op.f("ix_refresh_tokens_session_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    for column in ("refresh_expires_at", "expires_at", "app_pk", "credential_pk", "user_id"):
        op.drop_index(op.f(f"ix_token_sessions_{column}"), table_name="token_sessions")
    op.drop_table("token_sessions")
    op.drop_table("signing_keys")
