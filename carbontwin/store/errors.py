"""Exceptions of the storage layer.

Library errors (SQLAlchemy, the database drivers, Alembic) never leave the store as they
are: a broken rule of the data becomes :class:`carbontwin.core.errors.ValidationError` or
:class:`carbontwin.core.errors.ConsistencyError`, a failing database a :class:`StoreError`.
"""

from __future__ import annotations

__all__ = ["NotFoundError", "StoreError"]


class StoreError(RuntimeError):
    """The database cannot do what was asked (unreachable, locked, not migrated ...).

    The message says what failed and what to do about it.
    """


class NotFoundError(StoreError, LookupError):
    """A park, version, override or quarantined row asked for by id is not stored."""
