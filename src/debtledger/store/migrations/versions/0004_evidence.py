"""Evidence items (content-addressed, signed metadata) and the batches that anchor them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_batches",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("organisation", sa.String(63), nullable=False),
        sa.Column("closed_at", sa.Float, nullable=False),
        sa.Column("operation_id", sa.BigInteger, nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("block_number", sa.BigInteger, nullable=True),
        sa.Column("block_time", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_batches"),
        sa.UniqueConstraint("root", name="uq_evidence_batches_root"),
    )
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("content_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("claim_id", sa.LargeBinary(32), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("organisation", sa.String(63), nullable=False),
        sa.Column("submitter", sa.String(42), nullable=False),
        sa.Column("submitted_at", sa.BigInteger, nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("signature", sa.LargeBinary(65), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("batch_id", sa.Integer, nullable=True),
        sa.Column("leaf_index", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_items"),
        sa.UniqueConstraint("leaf_hash", name="uq_evidence_items_leaf_hash"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["evidence_batches.id"],
            name="fk_evidence_items_batch_id_evidence_batches",
        ),
    )
    op.create_index("ix_evidence_items_claim_id", "evidence_items", ["claim_id"])
    op.create_index(
        "ix_evidence_items_batch_id_leaf_index", "evidence_items", ["batch_id", "leaf_index"]
    )


def downgrade() -> None:
    op.drop_table("evidence_items")
    op.drop_table("evidence_batches")
