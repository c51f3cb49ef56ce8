"""Scheduled pull of readings from a REST source (API sync).

The source answers ``GET <url>?after=<cursor>`` with JSON
``{"readings": [{"point", "ts" (UTC epoch ms), "value", "q"}], "next": <cursor>}``; an
empty ``readings`` list means nothing new. The cursor of the last page handed to the sink is
kept by the caller (``cursor`` / :attr:`RestPuller.cursor`), so a restart resumes where it
stopped; a page is handed over again after a failure, and the platform's insert-ignore on
(point, time) makes it land once. Credentials go in an ``Authorization`` header.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from carbontwin.connectors.errors import ConnectorError

__all__ = ["RestPuller"]


class RestPuller:
    """Pull pages of readings from ``url`` and hand each to ``sink``.

    Parameters
    ----------
    url : str
        The source's readings endpoint.
    sink : callable
        Takes the list of readings of one page; returns when they are committed.
    cursor : str, optional
        Where to resume (the ``next`` of the last committed page).
    token : str, optional
        Bearer token of the platform's account at the source.
    timeout_s : float
        Per-request timeout [s].
    """

    def __init__(
        self,
        url: str,
        sink: Callable[[list[dict[str, Any]]], object],
        *,
        cursor: str | None = None,
        token: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.url, self.sink, self.cursor = url, sink, cursor
        self.token, self.timeout_s = token, timeout_s

    def _get(self) -> dict[str, Any]:
        query = f"?{urllib.parse.urlencode({'after': self.cursor})}" if self.cursor else ""
        request = urllib.request.Request(self.url + query, headers={"Accept": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                doc = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            msg = f"REST source {self.url} answered {exc.code} {exc.reason}"
            raise ConnectorError(msg) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            msg = f"REST source {self.url} is unreachable ({exc})"
            raise ConnectorError(msg) from None
        except ValueError as exc:
            msg = f"REST source {self.url} sent a body that is not JSON ({exc})"
            raise ConnectorError(msg) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("readings"), list):
            msg = f"REST source {self.url} sent JSON without a 'readings' list"
            raise ConnectorError(msg)
        return doc

    def pull(self, max_pages: int = 100) -> int:
        """Pull until the source has nothing new (or ``max_pages``); return readings handed.

        Raises
        ------
        ConnectorError
            If the source cannot be reached or answers badly; the cursor stays at the last
            committed page.
        """
        handed = 0
        for _ in range(max_pages):
            doc = self._get()
            readings = doc["readings"]
            if not readings:
                break
            self.sink(readings)
            handed += len(readings)
            if doc.get("next") is None or doc.get("next") == self.cursor:
                break
            self.cursor = str(doc["next"])
        return handed

    def run(
        self,
        interval_s: float,
        on_error: Callable[[ConnectorError], None] | None = None,
        cycles: int | None = None,
    ) -> None:
        """Pull every ``interval_s`` seconds; errors go to ``on_error`` and the loop goes on."""
        done = 0
        while cycles is None or done < cycles:
            try:
                self.pull()
            except ConnectorError as exc:
                if on_error:
                    on_error(exc)
            done += 1
            time.sleep(interval_s)
