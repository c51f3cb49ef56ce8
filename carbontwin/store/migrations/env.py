"""Alembic environment of the store's migrations.

The application migrates through :func:`carbontwin.store.migrate`, which hands over an open
connection in ``config.attributes["connection"]``; run by hand, the database URL is taken
from ``-x url=...``, then ``sqlalchemy.url``, then :func:`carbontwin.store.default_url`.
Batch mode is on so that ``ALTER`` steps also work on SQLite.

Importing this file outside a migration run (a test collector does) does nothing.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from carbontwin.store.db import create_engine_for, default_url
from carbontwin.store.models import Base

target_metadata = Base.metadata


def _url() -> str:
    config = context.config
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or default_url()
    )


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Write the migration SQL for the configured URL instead of running it."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection, or on a new one to the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = create_engine_for(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
    finally:
        engine.dispose()


if getattr(context, "config", None) is not None:
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()
