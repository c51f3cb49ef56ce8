"""The access log: every request to the platform, written to the audit log in batches.

Writing one hash-chained audit row per request inside the request would serialise every
read on the database's write lock. :class:`AccessLog` queues the records and a background
thread appends them in one transaction every ``flush_s`` seconds (and when the queue holds
``batch`` records), in arrival order; :meth:`AccessLog.close` writes what is left. Changes
to data are audited in their own transaction by the store as well, so a crash can lose at
most the last ``flush_s`` of *read* records, never the record of a change.

Examples
--------
>>> from carbontwin.store import Store
>>> store = Store.open("sqlite://")
>>> log = AccessLog(store, flush_s=0.05)
>>> log.put({"actor": "li.na", "action": "api.read", "object": "/api/v1/overview"})
>>> log.close()
>>> [r["actor"] for r in store.audit_log(action="api.read")]
['li.na']
>>> store.close()
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping
from typing import Any

from carbontwin.store import Store, StoreError

__all__ = ["AccessLog"]

_log = logging.getLogger(__name__)
_STOP = object()


class AccessLog:
    """A queue of audit records that a background thread writes to ``store``.

    Parameters
    ----------
    store : Store
        Where the records go.
    flush_s : float
        Longest time a record waits before it is written.
    batch : int
        Most records written in one transaction.
    """

    def __init__(self, store: Store, *, flush_s: float = 0.25, batch: int = 500) -> None:
        self.store = store
        self.flush_s = flush_s
        self.batch = batch
        self.written = 0
        self.failed = 0
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def put(self, record: Mapping[str, Any]) -> None:
        """Queue one record: ``actor``, ``action``, ``object``, ``detail``, ``outcome``."""
        self._queue.put(dict(record))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every record queued so far is written."""
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _write(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        try:
            self.written += self.store.audit_many(records)
        except StoreError as exc:  # keep serving; say so loudly
            self.failed += len(records)
            _log.error("could not write %d access-log records: %s", len(records), exc)

    def _run(self) -> None:
        pending: list[dict[str, Any]] = []
        since = 0.0
        while True:
            wait = (
                self.flush_s if not pending else max(0.0, since + self.flush_s - time.monotonic())
            )
            try:
                item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                self._write(pending)
                pending = []
                continue
            if item is _STOP:
                self._write(pending)
                return
            if isinstance(item, threading.Event):
                self._write(pending)
                pending = []
                item.set()
                continue
            if not pending:
                since = time.monotonic()
            pending.append(item)
            if len(pending) >= self.batch or time.monotonic() - since >= self.flush_s:
                self._write(pending)
                pending = []
