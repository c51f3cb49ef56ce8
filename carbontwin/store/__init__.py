"""Storage of carbontwin.

The versioned park registry, activity entries, raw readings, statistics, factor
overrides, quarantine, stored inventories, the hash-chained audit log and the integrity
chain over readings, entries and inventories. SQLite (WAL) is the embedded
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
from carbontwin.store.integrity import BrokenLink, IntegrityReport, KindReport
from carbontwin.store.repository import Store

__all__ = [
    "BrokenLink",
    "IntegrityReport",
    "KindReport",
    "NotFoundError",
    "Store",
    "StoreError",
    "create_engine_for",
    "default_url",
    "migrate",
]
