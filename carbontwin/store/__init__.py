"""Storage of carbontwin.

The versioned park registry, activity entries, raw readings, statistics, factor
overrides, quarantine and the hash-chained audit log. SQLite (WAL) is the embedded
default, PostgreSQL (psycopg 3) the scale-out target; the schema is kept by Alembic
migrations that ship with the package and run on :meth:`Store.open`. Only this package
talks to the database.

Examples
--------
>>> from carbontwin.store import Store
>>> with Store.open("sqlite://") as store:
...     store.audit("alice", "login", "session:1")
1
"""

from carbontwin.store.db import create_engine_for, default_url, migrate
from carbontwin.store.errors import NotFoundError, StoreError
from carbontwin.store.repository import Store

__all__ = [
    "NotFoundError",
    "Store",
    "StoreError",
    "create_engine_for",
    "default_url",
    "migrate",
]
