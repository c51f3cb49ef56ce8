"""Engines and migrations: SQLite (WAL) by default, PostgreSQL (psycopg 3) to scale.

Transactions
------------
SQLite's Python driver starts transactions only before DML by default, which makes DDL
non-transactional and ``BEGIN IMMEDIATE`` impossible to request. The engines made here
switch that off and emit ``BEGIN`` themselves: a plain (deferred) ``BEGIN`` for readers and
``BEGIN IMMEDIATE`` for a connection opened with the execution option
``{WRITE_OPTION: True}``, which takes SQLite's single write lock at once (waiting up to the
busy timeout) so that two writers never interleave. On PostgreSQL the store serialises its
writers with a table lock instead (see :mod:`carbontwin.store.repository`).

Examples
--------
>>> engine = create_engine_for("sqlite://")
>>> migrate(engine)
>>> sorted(inspect_tables(engine))[:3]
['activity_entries', 'alarms', 'alembic_version']
>>> engine.dispose()
"""

from __future__ import annotations

import functools
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from carbontwin.core.errors import ValidationError
from carbontwin.store.errors import StoreError

__all__ = [
    "WRITE_OPTION",
    "create_engine_for",
    "default_url",
    "describe_url",
    "inspect_tables",
    "is_postgresql",
    "migrate",
]

#: Execution option that makes a SQLite transaction start with ``BEGIN IMMEDIATE``.
WRITE_OPTION = "carbontwin_write"

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)
# Key of the PostgreSQL advisory lock held while migrating ("carbon" in ASCII).
_MIGRATION_LOCK_KEY = 0x636172626F6E


def default_url() -> str:
    """Return the default database URL, a SQLite file in the carbontwin home directory.

    The home directory is ``$CARBONTWIN_HOME`` when set, else ``~/.carbontwin``; it is
    created when missing.

    Returns
    -------
    str
        ``sqlite:///<home>/carbontwin.db``.

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as home:
    ...     with mock.patch.dict("os.environ", {"CARBONTWIN_HOME": home}):
    ...         default_url() == f"sqlite:///{Path(home).resolve() / 'carbontwin.db'}"
    True
    """
    home = Path(os.environ.get("CARBONTWIN_HOME") or "~/.carbontwin").expanduser()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = (
            f"cannot create the carbontwin home directory {home} ({exc.strerror}); "
            "set CARBONTWIN_HOME to a writable directory"
        )
        raise StoreError(msg) from exc
    return f"sqlite:///{home.resolve() / 'carbontwin.db'}"


def describe_url(url: str | URL) -> str:
    """Return ``url`` as text with any password hidden, for messages and logs.

    Examples
    --------
    >>> describe_url("postgresql+psycopg://ops:secret@db:5432/park")
    'postgresql+psycopg://ops:***@db:5432/park'
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        msg = (
            f"database URL {url!r} cannot be parsed ({exc}); write it as "
            "'sqlite:///path/to/file.db' or 'postgresql+psycopg://user@host:5432/dbname'"
        )
        raise ValidationError(msg) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        msg = (
            f"database URL {describe_url(parsed)!r} uses driver {parsed.drivername!r}; "
            "carbontwin supports 'sqlite:///<file>' and 'postgresql+psycopg://...' only"
        )
        raise ValidationError(msg)
    return parsed


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Leave transaction control to SQLAlchemy (see the module notes), then set the pragmas.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine_for(url: str) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL with the settings the store needs.

    SQLite connections get ``journal_mode=WAL``, ``busy_timeout=5000`` [ms],
    ``synchronous=NORMAL`` and ``foreign_keys=ON``, and transactions that SQLAlchemy
    begins (``BEGIN IMMEDIATE`` for writers, see the module notes). The directory of a
    SQLite file is created when missing; ``sqlite://`` is an in-memory database on one
    shared connection, for examples and single-threaded use. A PostgreSQL URL without a
    driver (``postgresql://``) is given the psycopg 3 driver.

    Parameters
    ----------
    url : str
        ``sqlite:///<path>`` or ``postgresql+psycopg://user[:password]@host[:port]/dbname``.

    Returns
    -------
    sqlalchemy.engine.Engine
        The engine; nothing is connected yet.

    Raises
    ------
    ValidationError
        If the URL cannot be parsed or names another database or driver.
    StoreError
        If the directory of a SQLite file cannot be created.

    Examples
    --------
    >>> create_engine_for("postgresql://ops@db/park").url.drivername
    'postgresql+psycopg'
    """
    parsed = _parse(url)
    serializer = functools.partial(json.dumps, ensure_ascii=False, allow_nan=False)
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(parsed, pool_pre_ping=True, json_serializer=serializer)
    kwargs: dict[str, Any] = {"json_serializer": serializer}
    if parsed.database in (None, "", ":memory:"):
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = (
                f"cannot create the directory {folder} of SQLite database "
                f"{parsed.database} ({exc.strerror}); choose a writable location"
            )
            raise StoreError(msg) from exc
    engine = sa.create_engine(parsed, **kwargs)
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def is_postgresql(engine: Engine) -> bool:
    """Return whether ``engine`` talks to PostgreSQL (else it is SQLite)."""
    return engine.dialect.name == "postgresql"


def _alembic_config() -> Config:
    location = Path(str(resources.files("carbontwin.store").joinpath("migrations")))
    config = Config()
    config.set_main_option("script_location", str(location).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest revision (``alembic upgrade head``).

    The migrations ship inside the package, so this works from an installed package and
    from any working directory. It is safe to call on every start: an up-to-date database
    is left as it is, and concurrent callers wait for each other (an advisory lock on
    PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) so the schema is created once.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        An engine made by :func:`create_engine_for`.

    Raises
    ------
    StoreError
        If the database cannot be reached or migrated; the message says why.
    """
    config = _alembic_config()
    where = describe_url(engine.url)
    try:
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
            if is_postgresql(engine):
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except CommandError as exc:
        msg = (
            f"cannot migrate the database at {where}: {exc}; the database was probably "
            "written by a newer carbontwin, so upgrade carbontwin or use another database"
        )
        raise StoreError(msg) from exc
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        msg = (
            f"cannot migrate the database at {where}: {reason}; check that the server is "
            "running, the URL is right and the user may create tables"
        )
        raise StoreError(msg) from exc
    finally:
        config.attributes.pop("connection", None)


def inspect_tables(engine: Engine) -> list[str]:
    """Return the names of the tables in the engine's default schema.

    Examples
    --------
    >>> inspect_tables(create_engine_for("sqlite://"))
    []
    """
    return list(sa.inspect(engine).get_table_names())
