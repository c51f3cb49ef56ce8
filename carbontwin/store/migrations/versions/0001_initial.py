"""Create the store's tables: registry, activity entries, readings, statistics, factor
overrides, quarantine and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-12-01 08:12:48
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Timestamps are UTC; the models read them back as aware datetimes.
UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create all tables and their indexes."""
    op.create_table(
        "registry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("park_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=True),
        sa.Column("changed_by", sa.String(), nullable=False),
        sa.Column("changed_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('park', 'zone', 'enterprise', 'facility', 'source', 'point', 'asset')",
            name=op.f("ck_registry_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry")),
    )
    op.create_index(
        "ix_registry_version",
        "registry",
        ["park_id", "kind", "record_id", "valid_from"],
        unique=True,
    )

    op.create_table(
        "activity_entries",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("park_id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("stream", sa.String(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("quality", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("entered_by", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_entries")),
    )
    op.create_index(
        op.f("ix_activity_entries_batch_id"), "activity_entries", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("ix_activity_entries_park_id_source_start"),
        "activity_entries",
        ["park_id", "source", "start"],
        unique=False,
    )

    op.create_table(
        "readings",
        sa.Column("point_id", sa.String(), nullable=False),
        sa.Column("ts", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("point_id", "ts", name=op.f("pk_readings")),
    )

    op.create_table(
        "statistics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("park_id", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics")),
    )
    op.create_index(
        op.f("ix_statistics_park_id_entity_name"),
        "statistics",
        ["park_id", "entity", "name"],
        unique=False,
    )

    op.create_table(
        "factor_overrides",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("park_id", sa.String(), nullable=False),
        sa.Column("factor", sa.String(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("applies_to", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("revoked_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("revoked_by", sa.String(), nullable=True),
        sa.Column("revoked_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_factor_overrides")),
    )
    op.create_index(
        op.f("ix_factor_overrides_park_id_factor"),
        "factor_overrides",
        ["park_id", "factor"],
        unique=False,
    )

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("park_id", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("released_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("released_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    op.create_index(
        op.f("ix_quarantine_park_id_released_at"),
        "quarantine",
        ["park_id", "released_at"],
        unique=False,
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", UTC_TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("object", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"], unique=False)


def downgrade() -> None:
    """Drop all tables (their indexes go with them)."""
    for table in (
        "audit_log",
        "quarantine",
        "factor_overrides",
        "statistics",
        "readings",
        "activity_entries",
        "registry",
    ):
        op.drop_table(table)
