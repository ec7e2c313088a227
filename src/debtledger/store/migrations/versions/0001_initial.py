"""Initial schema: the outbox and its nonce counters, the claims read model, the events
it is built from and the indexer's cursor.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from debtledger.store.models import UInt

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    # A data folder from before migrations already has the outbox (made by create_all):
    # it is adopted as it is, never rebuilt, so no stored write is lost.
    if "outbox" not in existing:
        op.create_table(
            "outbox",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("idem_key", sa.String(200), nullable=False),
            sa.Column("sender", sa.String(42), nullable=False),
            sa.Column("nonce", sa.Integer, nullable=False),
            sa.Column("label", sa.String(100), nullable=False),
            sa.Column("raw_tx", sa.LargeBinary, nullable=False),
            sa.Column("tx_hash", sa.String(66), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("block_number", sa.Integer, nullable=True),
            sa.Column("error", sa.Text, nullable=True),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("updated_at", sa.Float, nullable=False),
            sa.PrimaryKeyConstraint("id", name="pk_outbox"),
            sa.UniqueConstraint("idem_key", name="uq_outbox_idem_key"),
            sa.UniqueConstraint("tx_hash", name="uq_outbox_tx_hash"),
            sa.UniqueConstraint("sender", "nonce", name="uq_outbox_sender_nonce"),
        )
        op.create_index("ix_outbox_status", "outbox", ["status"])
    if "nonces" not in existing:
        op.create_table(
            "nonces",
            sa.Column("sender", sa.String(42), nullable=False),
            sa.Column("next_nonce", sa.Integer, nullable=False),
            sa.PrimaryKeyConstraint("sender", name="pk_nonces"),
        )
    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(66), nullable=False),
        sa.Column("owner", sa.String(42), nullable=False),
        sa.Column("creditor", sa.String(42), nullable=False),
        sa.Column("debtor", sa.String(66), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("principal", UInt(), nullable=False),
        sa.Column("outstanding", UInt(), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("pending_buyer", sa.String(42), nullable=True),
        sa.Column("pending_buy_back", sa.Boolean, nullable=False),
        sa.Column("mandate_agency", sa.String(42), nullable=True),
        sa.Column("mandate_expiry", UInt(), nullable=True),
        sa.Column("updated_block", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("claim_id", name="pk_claims"),
    )
    op.create_index("ix_claims_owner_status", "claims", ["owner", "status"])
    op.create_index("ix_claims_mandate_agency", "claims", ["mandate_agency"])
    op.create_index("ix_claims_due_date", "claims", ["due_date"])
    op.create_index("ix_claims_debtor", "claims", ["debtor"])
    op.create_table(
        "claim_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("claim_id", sa.String(66), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_claim_events"),
        sa.UniqueConstraint("block_number", "log_index", name="uq_claim_events_block_log"),
    )
    op.create_index(
        "ix_claim_events_claim", "claim_events", ["claim_id", "block_number", "log_index"]
    )
    op.create_table(
        "indexer_state",
        sa.Column("stream", sa.String(40), nullable=False),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("contract", sa.String(42), nullable=False),
        sa.Column("start_block", sa.BigInteger, nullable=False),
        sa.Column("last_block", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(66), nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("stream", name="pk_indexer_state"),
    )
    op.create_table(
        "indexed_blocks",
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.PrimaryKeyConstraint("block_number", name="pk_indexed_blocks"),
    )


def downgrade() -> None:
    for index, table in [
        ("ix_claims_owner_status", "claims"),
        ("ix_claims_mandate_agency", "claims"),
        ("ix_claims_due_date", "claims"),
        ("ix_claims_debtor", "claims"),
        ("ix_claim_events_claim", "claim_events"),
    ]:
        op.drop_index(index, table_name=table)
    for table in ["indexed_blocks", "indexer_state", "claim_events", "claims"]:
        op.drop_table(table)
    op.drop_index("ix_outbox_status", table_name="outbox")
    op.drop_table("nonces")
    op.drop_table("outbox")
