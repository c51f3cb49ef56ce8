"""Add accounts, setpoints, the integrity chain and stored inventories.

Accounts are users, API keys and refresh tokens; inventories come with their lines.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:58:21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Timestamps are UTC; the models read them back as aware datetimes.
UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables and their indexes."""
    op.create_table(
        "integrity_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_batches")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("integrity_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integrity_batches_kind_ref"), ["kind", "ref"], unique=False
        )

    op.create_table(
        "inventories",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("park_id", sa.String(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("computed_by", sa.String(), nullable=False),
        sa.Column("computed_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventories")),
    )
    with op.batch_alter_table("inventories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inventories_park_id_start_end"),
            ["park_id", "start", "end"],
            unique=False,
        )

    op.create_table(
        "setpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("park_id", sa.String(), nullable=False),
        sa.Column("point", sa.String(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("valid_until", UTC_TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("strategy", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("delivered_to", sa.String(), nullable=True),
        sa.Column("delivered_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("acknowledged_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("readback", sa.Double(), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setpoints")),
    )
    with op.batch_alter_table("setpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_setpoints_park_id_status"), ["park_id", "status"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("park_id", sa.String(), nullable=True),
        sa.Column("enterprise", sa.String(), nullable=True),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTC_TIMESTAMP, nullable=True),
        sa.Column("password_changed_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("last_login_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("revoked_at", UTC_TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "inventory_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inventory_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("enterprise", sa.String(), nullable=False),
        sa.Column("zone", sa.String(), nullable=False),
        sa.Column("industry", sa.String(), nullable=False),
        sa.Column("scope", sa.SmallInteger(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("gas", sa.String(length=16), nullable=False),
        sa.Column("carrier", sa.String(), nullable=False),
        sa.Column("use", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("tco2e", sa.Double(), nullable=False),
        sa.Column("energy_tce", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["inventories.id"],
            name=op.f("fk_inventory_lines_inventory_id_inventories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_lines")),
    )
    with op.batch_alter_table("inventory_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inventory_lines_inventory_id"), ["inventory_id"], unique=False
        )

    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("revoked_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("replaced_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_tokens_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Drop the tables."""
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_user_id"))

    op.drop_table("refresh_tokens")
    with op.batch_alter_table("inventory_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_lines_inventory_id"))

    op.drop_table("inventory_lines")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))

    op.drop_table("api_keys")
    op.drop_table("users")
    with op.batch_alter_table("setpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_setpoints_park_id_status"))

    op.drop_table("setpoints")
    with op.batch_alter_table("inventories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventories_park_id_start_end"))

    op.drop_table("inventories")
    with op.batch_alter_table("integrity_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_batches_kind_ref"))

    op.drop_table("integrity_batches")
