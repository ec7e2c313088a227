"""The PII vault (wrapped data keys per debtor, encrypted fields) and its access trail.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vault_keys",
        sa.Column("debtor", sa.LargeBinary(32), nullable=False),
        sa.Column("master_key_id", sa.String(32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(60), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("erased_at", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("debtor", name="pk_vault_keys"),
    )
    op.create_index("ix_vault_keys_master_key_id", "vault_keys", ["master_key_id"])
    op.create_table(
        "vault_fields",
        sa.Column("debtor", sa.LargeBinary(32), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("nonce", sa.LargeBinary(12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("debtor", "field", name="pk_vault_fields"),
        sa.ForeignKeyConstraint(
            ["debtor"], ["vault_keys.debtor"], name="fk_vault_fields_debtor_vault_keys"
        ),
    )
    op.create_table(
        "pii_access",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("accessed_at", sa.Float, nullable=False),
        sa.Column("actor_org", sa.String(63), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("debtor", sa.LargeBinary(32), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("claim_id", sa.LargeBinary(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pii_access"),
    )
    op.create_index("ix_pii_access_accessed_at", "pii_access", ["accessed_at"])
    op.create_index("ix_pii_access_debtor_id", "pii_access", ["debtor", "id"])


def downgrade() -> None:
    op.drop_table("pii_access")
    op.drop_table("vault_fields")
    op.drop_table("vault_keys")
