"""What the parts of :class:`~carbontwin.store.Store` (its mixins) use of the store itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

__all__ = ["StorePart", "columns", "newest_first"]


def columns(row: object) -> dict[str, Any]:
    """Return a row's columns as a dict."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def newest_first(
    model: Any,
    park_id: str,
    status: Sequence[str] | None,
    points: Sequence[str] | None,
    limit: int,
) -> sa.Select:
    """Return the query of a park's rows of ``model``, newest first, by status and point."""
    query = sa.select(model).where(model.park_id == park_id)
    if status is not None:
        query = query.where(model.status.in_(list(status)))
    if points is not None:
        query = query.where(model.point.in_(list(points)))
    return query.order_by(model.id.desc()).limit(limit)


class StorePart:
    """Base of the store's mixins: the session and audit helpers :class:`Store` provides."""

    _postgres: bool

    def _reading(self, what: str) -> AbstractContextManager[Session]: ...  # pragma: no cover
    def _writing(
        self, what: str, *, lock: bool = True
    ) -> AbstractContextManager[Session]: ...  # pragma: no cover
    def _append_audit(  # pragma: no cover
        self,
        session: Session,
        actor: str,
        action: str,
        object: str,
        detail: Mapping[str, Any] | None = None,
        outcome: str = "ok",
        client: str = "",
    ) -> int: ...
