"""Claim records (non-personal part and the creditor's signature), courts' legal requests,
which access records were anchored as evidence, and erasures of debtors' personal data.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claim_records",
        sa.Column("claim_id", sa.LargeBinary(32), nullable=False),
        sa.Column("claim_ref", sa.String(128), nullable=False),
        sa.Column("idem_key", sa.String(200), nullable=False),
        sa.Column("creditor", sa.String(63), nullable=False),
        sa.Column("creditor_address", sa.String(42), nullable=False),
        sa.Column("debtor", sa.LargeBinary(32), nullable=False),
        sa.Column("record_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("disclosure", sa.Text, nullable=False),
        sa.Column("signature", sa.LargeBinary(65), nullable=False),
        sa.Column("operation_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("claim_id", name="pk_claim_records"),
        sa.UniqueConstraint("idem_key", name="uq_claim_records_idem_key"),
    )
    op.create_index("ix_claim_records_debtor", "claim_records", ["debtor"])
    op.create_table(
        "legal_requests",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.LargeBinary(32), nullable=False),
        sa.Column("court", sa.String(63), nullable=False),
        sa.Column("case_ref", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_at", sa.Float, nullable=False),
        sa.Column("evidence_item_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_legal_requests"),
        sa.UniqueConstraint(
            "court", "claim_id", "case_ref", name="uq_legal_requests_court_claim_case"
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim_records.claim_id"],
            name="fk_legal_requests_claim_id_claim_records",
        ),
        sa.ForeignKeyConstraint(
            ["evidence_item_id"],
            ["evidence_items.id"],
            name="fk_legal_requests_evidence_item_id_evidence_items",
        ),
    )
    op.create_index("ix_legal_requests_claim_id", "legal_requests", ["claim_id"])
    op.create_table(
        "pii_access_evidence",
        sa.Column("access_id", sa.Integer, nullable=False),
        sa.Column("evidence_item_id", sa.Integer, nullable=False),
        sa.Column("anchored_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("access_id", name="pk_pii_access_evidence"),
        sa.ForeignKeyConstraint(
            ["access_id"], ["pii_access.id"], name="fk_pii_access_evidence_access_id_pii_access"
        ),
        sa.ForeignKeyConstraint(
            ["evidence_item_id"],
            ["evidence_items.id"],
            name="fk_pii_access_evidence_evidence_item_id_evidence_items",
        ),
    )
    op.create_table(
        "erasures",
        sa.Column("debtor", sa.LargeBinary(32), nullable=False),
        sa.Column("requested_by", sa.String(63), nullable=False),
        sa.Column("requested_at", sa.Float, nullable=False),
        sa.Column("fields", sa.Integer, nullable=False),
        sa.Column("erased_at", sa.Float, nullable=True),
        sa.Column("evidence_item_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("debtor", name="pk_erasures"),
        sa.ForeignKeyConstraint(
            ["evidence_item_id"],
            ["evidence_items.id"],
            name="fk_erasures_evidence_item_id_evidence_items",
        ),
    )


def downgrade() -> None:
    op.drop_table("erasures")
    op.drop_table("pii_access_evidence")
    op.drop_table("legal_requests")
    op.drop_table("claim_records")
