"""Supervision: debtors' complaints, contacts the contract refused, the violations the
compliance monitor found and how far it has read each source.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(66), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("contact_item_id", sa.Integer, nullable=True),
        sa.Column("creditor", sa.String(42), nullable=False),
        sa.Column("agency", sa.String(42), nullable=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("filed_by", sa.String(63), nullable=False),
        sa.Column("filed_role", sa.String(20), nullable=False),
        sa.Column("filed_at", sa.Float, nullable=False),
        sa.Column("idem_key", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolved_by", sa.String(63), nullable=True),
        sa.Column("resolved_role", sa.String(20), nullable=True),
        sa.Column("resolved_at", sa.Float, nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
        sa.Column("evidence_item_id", sa.Integer, nullable=True),
        sa.Column("resolution_item_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_complaints"),
        sa.UniqueConstraint("idem_key", name="uq_complaints_idem_key"),
        sa.ForeignKeyConstraint(
            ["evidence_item_id"],
            ["evidence_items.id"],
            name="fk_complaints_evidence_item_id_evidence_items",
        ),
        sa.ForeignKeyConstraint(
            ["resolution_item_id"],
            ["evidence_items.id"],
            name="fk_complaints_resolution_item_id_evidence_items",
        ),
    )
    op.create_index("ix_complaints_claim_id_status", "complaints", ["claim_id", "status"])
    op.create_index("ix_complaints_filed_at", "complaints", ["filed_at"])
    op.create_table(
        "refused_attempts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("org", sa.String(63), nullable=False),
        sa.Column("address", sa.String(42), nullable=True),
        sa.Column("creditor", sa.String(42), nullable=True),
        sa.Column("claim_id", sa.String(66), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("rule", sa.String(60), nullable=False),
        sa.Column("attempted_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_refused_attempts"),
    )
    op.create_index("ix_refused_attempts_attempted_at", "refused_attempts", ["attempted_at"])
    op.create_table(
        "violations",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("claim_id", sa.String(66), nullable=True),
        sa.Column("organisation", sa.String(63), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("source_ref", sa.String(120), nullable=False),
        sa.Column("occurred_at", sa.Float, nullable=True),
        sa.Column("detected_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_violations"),
        sa.UniqueConstraint("kind", "source_ref", name="uq_violations_kind_source_ref"),
    )
    op.create_index("ix_violations_claim_id", "violations", ["claim_id"])
    op.create_index("ix_violations_kind_id", "violations", ["kind", "id"])
    op.create_table(
        "monitor_cursors",
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("last_id", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_monitor_cursors"),
    )


def downgrade() -> None:
    op.drop_table("monitor_cursors")
    op.drop_table("violations")
    op.drop_table("refused_attempts")
    op.drop_table("complaints")
