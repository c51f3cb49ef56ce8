"""Add alarms: anomalies found in points' data, acknowledged and closed by people.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the alarms table and its indexes."""
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("park_id", sa.String(), nullable=False),
        sa.Column("point", sa.String(), nullable=False),
        sa.Column("enterprise", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message_en", sa.String(), nullable=False),
        sa.Column("message_zh", sa.String(), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("reading_ts", UTC_TIMESTAMP, nullable=False),
        sa.Column("opened_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acknowledged_by", sa.String(), nullable=True),
        sa.Column("acknowledged_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("closed_by", sa.String(), nullable=True),
        sa.Column("closed_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("note", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alarms_park_id_status"), ["park_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_alarms_park_id_point_kind_status"),
            ["park_id", "point", "kind", "status"],
            unique=False,
        )


def downgrade() -> None:
    """Drop the alarms table."""
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarms_park_id_point_kind_status"))
        batch_op.drop_index(batch_op.f("ix_alarms_park_id_status"))
    op.drop_table("alarms")
