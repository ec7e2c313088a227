"""Organisations hosted by the service, their members and API keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_organisations"),
        sa.UniqueConstraint("address", name="uq_organisations_address"),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("org", sa.String(63), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_members"),
        sa.ForeignKeyConstraint(
            ["org"], ["organisations.name"], name="fk_members_org_organisations"
        ),
        sa.UniqueConstraint("org", "name", name="uq_members_org_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(12), nullable=False),
        sa.Column("member_id", sa.Integer, nullable=False),
        sa.Column("org", sa.String(63), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_api_keys_member_id_members"
        ),
        sa.ForeignKeyConstraint(
            ["org"], ["organisations.name"], name="fk_api_keys_org_organisations"
        ),
    )
    op.create_index("ix_api_keys_member_id", "api_keys", ["member_id"])


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("members")
    op.drop_table("organisations")
