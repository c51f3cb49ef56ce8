"""Add strategies: control strategies from the optimisers, decided on and dispatched.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the strategies table and its index."""
    op.create_table(
        "strategies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("park_id", sa.String(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("start", UTC_TIMESTAMP, nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("expected", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("solver", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("comment", sa.String(), nullable=False),
        sa.Column("dispatched_by", sa.String(), nullable=True),
        sa.Column("dispatched_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("setpoints", sa.JSON(), nullable=True),
        sa.Column("verified_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("measured", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategies")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("strategies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategies_park_id_status"), ["park_id", "status"], unique=False
        )


def downgrade() -> None:
    """Drop the strategies table."""
    with op.batch_alter_table("strategies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategies_park_id_status"))
    op.drop_table("strategies")
