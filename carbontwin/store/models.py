"""The tables of the store, as SQLAlchemy 2 declarative models.

Conventions: every timestamp is UTC and comes back timezone-aware on both backends
(:class:`UtcDateTime`); quantities are floats in the canonical unit named beside them;
constraint and index names follow :data:`NAMING_CONVENTION` so migrations can find them.
The schema itself is created by the Alembic migrations, never by ``create_all``; a test
checks that the migrated schema equals these models.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "KINDS",
    "NAMING_CONVENTION",
    "ActivityEntryRow",
    "ApiKeyRow",
    "AuditRow",
    "Base",
    "FactorOverrideRow",
    "IntegrityBatchRow",
    "InventoryLineRow",
    "InventoryRow",
    "QuarantineRow",
    "ReadingRow",
    "RefreshTokenRow",
    "RegistryRow",
    "SetpointRow",
    "StatisticRow",
    "StrategyRow",
    "UserRow",
    "UtcDateTime",
]

#: Kinds of registry records, one per part of a park definition.
KINDS: tuple[str, ...] = ("park", "zone", "enterprise", "facility", "source", "point", "asset")

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """A timestamp kept in UTC: aware datetimes in, aware UTC datetimes out.

    SQLite has no time zones, so the value is stored as naive UTC there and marked UTC
    again when read; PostgreSQL stores ``timestamp with time zone``.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Convert an aware datetime to UTC (naive UTC for SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"timestamp {value.isoformat()} has no time zone; pass an aware datetime"
            raise ValueError(msg)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return the stored timestamp as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's models."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class RegistryRow(Base):
    """One version of one record of a park definition.

    A version is valid from ``valid_from`` to ``valid_to`` inclusive; ``valid_to`` is
    ``NULL`` for the current version. ``data`` is the record's JSON dump; for the ``park``
    record it holds the park's own fields and ``members`` the ids of its zones,
    enterprises, facilities, sources, points and assets in their list order.
    """

    __tablename__ = "registry"
    __table_args__ = (
        sa.Index("ix_registry_version", "park_id", "kind", "record_id", "valid_from", unique=True),
        sa.CheckConstraint(
            "kind IN ('park', 'zone', 'enterprise', 'facility', 'source', 'point', 'asset')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    park_id: Mapped[str] = mapped_column(sa.String)
    kind: Mapped[str] = mapped_column(sa.String(16))
    record_id: Mapped[str] = mapped_column(sa.String)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    members: Mapped[dict[str, list[str]] | None] = mapped_column(sa.JSON, nullable=True)
    changed_by: Mapped[str] = mapped_column(sa.String, default="")
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(sa.String, default="")


class ActivityEntryRow(Base):
    """An activity entry: a quantity [canonical unit of the source's carrier] over days."""

    __tablename__ = "activity_entries"
    __table_args__ = (sa.Index(None, "park_id", "source", "start"),)

    id: Mapped[str] = mapped_column(sa.String, primary_key=True)
    park_id: Mapped[str] = mapped_column(sa.String)
    source: Mapped[str] = mapped_column(sa.String)
    stream: Mapped[str] = mapped_column(sa.String, default="")
    start: Mapped[dt.date] = mapped_column(sa.Date)
    end: Mapped[dt.date] = mapped_column(sa.Date)
    quantity: Mapped[float] = mapped_column(sa.Double)
    unit: Mapped[str] = mapped_column(sa.String)
    origin: Mapped[str] = mapped_column(sa.String(16))
    quality: Mapped[str] = mapped_column(sa.String(16))
    ref: Mapped[str] = mapped_column(sa.String, default="")
    entered_by: Mapped[str] = mapped_column(sa.String, default="")
    batch_id: Mapped[str | None] = mapped_column(sa.String, nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ReadingRow(Base):
    """A raw reading of a metering point, keyed by (point, time).

    ``ts`` [ms since the epoch, UTC], ``value`` [the point's unit], ``quality`` (an
    integer code).
    """

    __tablename__ = "readings"

    point_id: Mapped[str] = mapped_column(sa.String, primary_key=True)
    ts: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    value: Mapped[float] = mapped_column(sa.Double)
    quality: Mapped[int] = mapped_column(sa.SmallInteger)
    batch_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)


class StatisticRow(Base):
    """A statistic of an enterprise or the park over days ``start`` to ``end``."""

    __tablename__ = "statistics"
    __table_args__ = (sa.Index(None, "park_id", "entity", "name"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    park_id: Mapped[str] = mapped_column(sa.String)
    entity: Mapped[str] = mapped_column(sa.String)
    name: Mapped[str] = mapped_column(sa.String)
    start: Mapped[dt.date] = mapped_column(sa.Date)
    end: Mapped[dt.date] = mapped_column(sa.Date)
    value: Mapped[float] = mapped_column(sa.Double)
    unit: Mapped[str] = mapped_column(sa.String)
    ref: Mapped[str] = mapped_column(sa.String, default="")


class FactorOverrideRow(Base):
    """A factor override of a park; revoked overrides stay, with who revoked them and why."""

    __tablename__ = "factor_overrides"
    __table_args__ = (sa.Index(None, "park_id", "factor"),)

    id: Mapped[str] = mapped_column(sa.String, primary_key=True)
    park_id: Mapped[str] = mapped_column(sa.String)
    factor: Mapped[str] = mapped_column(sa.String)
    value: Mapped[float] = mapped_column(sa.Double)
    unit: Mapped[str] = mapped_column(sa.String)
    applies_to: Mapped[str] = mapped_column(sa.String(16))
    target: Mapped[str] = mapped_column(sa.String, default="")
    valid_from: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    reason: Mapped[str] = mapped_column(sa.String)
    source: Mapped[str] = mapped_column(sa.String, default="")
    created_by: Mapped[str] = mapped_column(sa.String, default="")
    revoked: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String, nullable=True)


class QuarantineRow(Base):
    """A row that did not land, with the rule it broke; released rows stay, marked."""

    __tablename__ = "quarantine"
    __table_args__ = (sa.Index(None, "park_id", "released_at"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    park_id: Mapped[str] = mapped_column(sa.String)
    rule: Mapped[str] = mapped_column(sa.String)
    reason: Mapped[str] = mapped_column(sa.String)
    origin: Mapped[str] = mapped_column(sa.String, default="")
    ref: Mapped[str] = mapped_column(sa.String, default="")
    row: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    released_by: Mapped[str | None] = mapped_column(sa.String, nullable=True)


class AuditRow(Base):
    """One entry of the append-only, hash-chained audit log.

    ``hash`` is the SHA-256 (hex) of the canonical JSON of the row's other fields,
    ``prev_hash`` included; ``prev_hash`` is the hash of the row before (64 zeros for
    the first row). See :func:`carbontwin.store.repository.audit_hash`.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index(None, "actor"),
        sa.Index(None, "action"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    ts: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(sa.String)
    action: Mapped[str] = mapped_column(sa.String)
    object: Mapped[str] = mapped_column(sa.String)
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    client: Mapped[str] = mapped_column(sa.String, default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class UserRow(Base):
    """A person or a service account that may use the platform.

    ``role`` is one of :data:`carbontwin.runtime.access.ROLES`; ``enterprise`` scopes an
    emission unit to its own enterprise. People sign in with a password (``password_hash``,
    Argon2); service accounts (``kind = 'service'``) hold API keys instead. Failed sign-ins
    are counted and lock the account until ``locked_until``.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String, default="")
    kind: Mapped[str] = mapped_column(sa.String(16), default="person")
    role: Mapped[str] = mapped_column(sa.String(32))
    park_id: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    enterprise: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(sa.String, default="")


class ApiKeyRow(Base):
    """An API key of a service account; only its SHA-256 is kept.

    ``id`` is the key's public prefix (the part before the dot), so a key is found
    without comparing hashes one by one.
    """

    __tablename__ = "api_keys"
    __table_args__ = (sa.Index(None, "user_id"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class RefreshTokenRow(Base):
    """A refresh token handed out at sign-in; kept hashed so it can be revoked.

    Each use rotates it: the old one is revoked and ``replaced_by`` names the new one; a
    revoked token presented again revokes the whole family (a stolen token).
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (sa.Index(None, "user_id"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    family: Mapped[str] = mapped_column(sa.String(64))
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)


class SetpointRow(Base):
    """A setpoint issued to a controllable point, and what became of it.

    ``status``: ``pending`` (waiting for its integration), ``delivered`` (fetched),
    ``acknowledged`` (applied, ``readback`` as reported), ``failed`` (the device refused
    or the read-back differed), ``expired`` (not delivered before ``valid_until``) or
    ``cancelled``.
    """

    __tablename__ = "setpoints"
    __table_args__ = (sa.Index(None, "park_id", "status"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    park_id: Mapped[str] = mapped_column(sa.String)
    point: Mapped[str] = mapped_column(sa.String)
    value: Mapped[float] = mapped_column(sa.Double)
    unit: Mapped[str] = mapped_column(sa.String, default="")
    valid_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    reason: Mapped[str] = mapped_column(sa.String, default="")
    strategy: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    created_by: Mapped[str] = mapped_column(sa.String)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    delivered_to: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    readback: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    detail: Mapped[str] = mapped_column(sa.String, default="")


class AlarmRow(Base):
    """An alarm: an anomaly found in a point's data, and what people did about it.

    ``status``: ``open``, ``acknowledged`` (someone is on it) or ``closed`` (with a note).
    While an alarm of a point and kind is not closed, the same anomaly seen again updates
    it (``last_seen_at``, ``count``) instead of opening another.
    """

    __tablename__ = "alarms"
    __table_args__ = (
        sa.Index(None, "park_id", "status"),
        sa.Index(None, "park_id", "point", "kind", "status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    park_id: Mapped[str] = mapped_column(sa.String)
    point: Mapped[str] = mapped_column(sa.String)
    enterprise: Mapped[str] = mapped_column(sa.String, default="")
    kind: Mapped[str] = mapped_column(sa.String(32))
    severity: Mapped[str] = mapped_column(sa.String(16))
    message_en: Mapped[str] = mapped_column(sa.String)
    message_zh: Mapped[str] = mapped_column(sa.String, default="")
    score: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    reading_ts: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    count: Mapped[int] = mapped_column(sa.Integer, default=1)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    note: Mapped[str] = mapped_column(sa.String, default="")


class StrategyRow(Base):
    """A control strategy: a setpoint schedule from an optimisation, and its life.

    ``status``: ``proposed`` → ``accepted`` or ``rejected`` (by an energy manager, with a
    comment) → ``dispatched`` (its setpoints issued) or, for advice, ``advised`` (pushed
    to operators, no setpoints) → ``verified`` (the measured effect recorded).
    ``schedule`` maps each setpoint to its values per interval from ``start``;
    ``expected`` holds the plan's and the baseline's cost, energy and emissions.
    """

    __tablename__ = "strategies"
    __table_args__ = (sa.Index(None, "park_id", "status"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    park_id: Mapped[str] = mapped_column(sa.String)
    mode: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="proposed")
    title: Mapped[str] = mapped_column(sa.String, default="")
    start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    interval_s: Mapped[int] = mapped_column(sa.Integer)
    steps: Mapped[int] = mapped_column(sa.Integer)
    schedule: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    expected: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    reasons: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    solver: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_by: Mapped[str] = mapped_column(sa.String)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    comment: Mapped[str] = mapped_column(sa.String, default="")
    dispatched_by: Mapped[str | None] = mapped_column(sa.String, nullable=True)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    setpoints: Mapped[list[int] | None] = mapped_column(sa.JSON, nullable=True)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    measured: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)


class IntegrityBatchRow(Base):
    """One link of the integrity chain: a batch of readings, entries or an inventory.

    ``digest`` is the SHA-256 of the batch's ``count`` rows in canonical form, ``hash`` the
    SHA-256 of the link (id, kind, ref, count, digest, ``prev_hash``, ``created_at``);
    ``prev_hash`` is the hash of the link before (64 zeros for the first). Readings point
    back with ``readings.batch_id``, entries by ``activity_entries.batch_id`` = ``ref``,
    inventories by ``ref`` = ``inventories.id`` (and ``inventories.batch_id``). The forms
    are in :mod:`carbontwin.store.integrity`.
    """

    __tablename__ = "integrity_batches"
    __table_args__ = (sa.Index(None, "kind", "ref"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    ref: Mapped[str] = mapped_column(sa.String, default="")
    count: Mapped[int] = mapped_column(sa.Integer)
    digest: Mapped[str] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class InventoryRow(Base):
    """A stored inventory: the accounting result of a park for a period, as computed.

    ``document`` is the inventory's JSON (schema ``carbontwin.inventory/1``); its lines
    (:class:`InventoryLineRow`) are the pre-aggregated figures the API answers from.
    ``status`` is ``computed`` for the newest inventory of a park and period and
    ``superseded`` for the older ones.
    """

    __tablename__ = "inventories"
    __table_args__ = (sa.Index(None, "park_id", "start", "end"),)

    id: Mapped[str] = mapped_column(sa.String, primary_key=True)
    park_id: Mapped[str] = mapped_column(sa.String)
    start: Mapped[dt.date] = mapped_column(sa.Date)
    end: Mapped[dt.date] = mapped_column(sa.Date)
    as_of: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="computed")
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    computed_by: Mapped[str] = mapped_column(sa.String, default="")
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    batch_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)


class InventoryLineRow(Base):
    """One line of a stored inventory, per month of its period and enterprise.

    ``kind`` is ``emission`` (``scope``, ``category``, ``gas``; ``amount`` [t of the gas]
    and ``tco2e`` [t CO2e]), ``energy`` (``carrier``, ``use``; ``amount`` [``unit``] and
    ``energy_tce`` [tce]) or ``offset`` (``category``; ``tco2e`` removed or avoided).
    ``zone`` and ``industry`` are the enterprise's on the inventory's as-of date.
    """

    __tablename__ = "inventory_lines"
    __table_args__ = (sa.Index(None, "inventory_id"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    inventory_id: Mapped[str] = mapped_column(sa.ForeignKey("inventories.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    month: Mapped[str] = mapped_column(sa.String(7))
    enterprise: Mapped[str] = mapped_column(sa.String)
    zone: Mapped[str] = mapped_column(sa.String, default="")
    industry: Mapped[str] = mapped_column(sa.String, default="")
    scope: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    category: Mapped[str] = mapped_column(sa.String(32), default="")
    gas: Mapped[str] = mapped_column(sa.String(16), default="")
    carrier: Mapped[str] = mapped_column(sa.String, default="")
    use: Mapped[str] = mapped_column(sa.String(16), default="")
    amount: Mapped[float] = mapped_column(sa.Double, default=0.0)
    unit: Mapped[str] = mapped_column(sa.String, default="")
    tco2e: Mapped[float] = mapped_column(sa.Double, default=0.0)
    energy_tce: Mapped[float] = mapped_column(sa.Double, default=0.0)
