"""Engines, migrations and the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from carbontwin.core.errors import ValidationError
from carbontwin.store import Store, StoreError, create_engine_for, default_url, migrate
from carbontwin.store.models import Base

TABLES = {
    "registry",
    "activity_entries",
    "readings",
    "statistics",
    "factor_overrides",
    "quarantine",
    "audit_log",
    "users",
    "api_keys",
    "refresh_tokens",
    "setpoints",
    "integrity_batches",
    "inventories",
    "inventory_lines",
    "alarms",
    "strategies",
}


def test_migration_creates_all_tables(store: Store) -> None:
    names = set(sa.inspect(store.engine).get_table_names())
    assert names == TABLES | {"alembic_version"}
    assert set(Base.metadata.tables) == TABLES


def test_migrated_schema_matches_models(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_registry_version_index_is_unique(store: Store) -> None:
    indexes = {ix["name"]: ix for ix in sa.inspect(store.engine).get_indexes("registry")}
    ix = indexes["ix_registry_version"]
    assert ix["unique"]
    assert ix["column_names"] == ["park_id", "kind", "record_id", "valid_from"]


def test_open_twice_keeps_one_migration(store_url: str) -> None:
    first = Store.open(store_url)
    first.audit("alice", "login", "session:1")
    first.close()
    second = Store.open(store_url)
    try:
        with second.engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert versions == [("0004",)]
        # Data written before the second open is still there and the chain still holds.
        assert [r["action"] for r in second.audit_log()] == ["login"]
        assert second.verify_audit() is None
        migrate(second.engine)  # once more, explicitly: nothing to do
    finally:
        second.close()


def test_sqlite_connections_get_pragmas(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys")
            }
    finally:
        engine.dispose()
    # synchronous=NORMAL is 1; the directory of the file was created.
    assert pragma == {
        "journal_mode": "wal",
        "busy_timeout": 5000,
        "synchronous": 1,
        "foreign_keys": 1,
    }
    assert (tmp_path / "sub" / "x.db").exists()


def test_postgresql_url_gets_psycopg_driver() -> None:
    assert create_engine_for("postgresql://u@h/db").url.drivername == "postgresql+psycopg"
    assert create_engine_for("postgres://u@h/db").url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db", "nonsense"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match=r"sqlite|postgresql"):
        create_engine_for(url)


def test_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match=r"cannot migrate the database at .*:\*\*\*@"):
        Store.open("postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2")


def test_default_url_lives_in_carbontwin_home(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CARBONTWIN_HOME", str(home))
    url = default_url()
    assert url == f"sqlite:///{home.resolve() / 'carbontwin.db'}"
    assert home.is_dir()
    store = Store.open()
    try:
        assert Path(store.engine.url.database) == home.resolve() / "carbontwin.db"
    finally:
        store.close()


def test_migrations_run_from_any_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = Store.open("sqlite:///relative.db")
    store.close()
    assert (tmp_path / "relative.db").exists()


def test_in_memory_sqlite_is_shared_by_sessions() -> None:
    with Store.open("sqlite://") as store:
        store.audit("alice", "login", "session:1")
        assert len(store.audit_log()) == 1
