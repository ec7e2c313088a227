"""Claims listed by owner and status in claim-id order from the index itself.

The page query (owner = ? AND status = ? ORDER BY claim_id LIMIT n) found its rows through
(owner, status) but then sorted every one of them (SQLite: USE TEMP B-TREE FOR ORDER BY),
so one page of a creditor holding many claims cost a sort of all its active claims.
(owner, status, claim_id) serves the filter, the order and the `after` cursor at once, and
still serves every query the (owner, status) index served.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_claims_owner_status_claim_id", "claims", ["owner", "status", "claim_id"])
    op.drop_index("ix_claims_owner_status", table_name="claims")


def downgrade() -> None:
    op.create_index("ix_claims_owner_status", "claims", ["owner", "status"])
    op.drop_index("ix_claims_owner_status_claim_id", table_name="claims")
