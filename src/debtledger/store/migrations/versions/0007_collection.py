"""The collection engine's read model (policies, enrolled claims, their events, the stream's
block hashes) and the keeper's schedule.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collection_policies",
        sa.Column("policy_id", sa.String(66), nullable=False),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("owner", sa.String(42), nullable=True),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("updated_block", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("policy_id", name="pk_collection_policies"),
    )
    op.create_index("ix_collection_policies_owner", "collection_policies", ["owner"])
    op.create_table(
        "collection_claims",
        sa.Column("claim_id", sa.String(66), nullable=False),
        sa.Column("policy_id", sa.String(66), nullable=False),
        sa.Column("debtor", sa.String(66), nullable=False),
        sa.Column("tz_offset_minutes", sa.Integer, nullable=False),
        sa.Column("due_at", sa.BigInteger, nullable=False),
        sa.Column("stage", sa.Integer, nullable=False),
        sa.Column("paused_since", sa.BigInteger, nullable=False),
        sa.Column("paused_seconds", sa.BigInteger, nullable=False),
        sa.Column("plan_state", sa.Integer, nullable=False),
        sa.Column("plan_next", sa.Integer, nullable=False),
        sa.Column("plan_grace_days", sa.Integer, nullable=False),
        sa.Column("plan_dues", sa.JSON, nullable=False),
        sa.Column("updated_block", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("claim_id", name="pk_collection_claims"),
    )
    op.create_index("ix_collection_claims_policy_id", "collection_claims", ["policy_id"])
    op.create_table(
        "collection_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("key", sa.String(66), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_collection_events"),
        sa.UniqueConstraint("block_number", "log_index", name="uq_collection_events_block_log"),
    )
    op.create_index(
        "ix_collection_events_key", "collection_events", ["key", "block_number", "log_index"]
    )
    op.create_table(
        "collection_blocks",
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.PrimaryKeyConstraint("block_number", name="pk_collection_blocks"),
    )
    op.create_table(
        "collection_schedule",
        sa.Column("claim_id", sa.String(66), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("next_check_at", sa.BigInteger, nullable=False),
        sa.Column("note", sa.String(80), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("claim_id", "reason", name="pk_collection_schedule"),
    )
    op.create_index(
        "ix_collection_schedule_next_check_at",
        "collection_schedule",
        ["next_check_at", "claim_id", "reason"],
    )


def downgrade() -> None:
    op.drop_table("collection_schedule")
    op.drop_table("collection_blocks")
    op.drop_table("collection_events")
    op.drop_table("collection_claims")
    op.drop_table("collection_policies")
