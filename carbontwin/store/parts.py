"""What the parts of :class:`~carbontwin.store.Store` (its mixins) use of the store itself."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.orm import Session

__all__ = ["StorePart", "columns"]


def columns(row: object) -> dict[str, Any]:
    """Return a row's columns as a dict."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


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
