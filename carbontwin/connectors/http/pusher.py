"""Push of collector batches to the platform over HTTP (the collector's uplink).

Each batch document (:meth:`~carbontwin.connectors.collector.Batch.to_json`) is sent as
``POST <platform>/api/v1/collectors/batches`` with a JSON body. Only a 200 answer means the
platform has committed the batch; anything else — a refusal, a server error, no answer —
raises :class:`ConnectorError`, and the collector keeps the batch and sends it again.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from carbontwin.connectors.errors import ConnectorError

__all__ = ["BATCHES_PATH", "BatchPusher"]

#: The platform's route for collector batches.
BATCHES_PATH = "/api/v1/collectors/batches"


class BatchPusher:
    """Send batch documents to the platform; a callable for :class:`Collector`.

    Parameters
    ----------
    platform : str
        The platform's base URL, e.g. ``http://platform:8000``.
    timeout_s : float
        Per-request timeout [s].

    Attributes
    ----------
    last_answer : dict
        The JSON body of the last answer (the ingest summary, or the error).
    """

    def __init__(self, platform: str, *, timeout_s: float = 10.0) -> None:
        self.url = platform.rstrip("/") + BATCHES_PATH
        self.timeout_s = float(timeout_s)
        self.last_answer: dict[str, Any] = {}

    def __call__(self, doc: Mapping[str, Any]) -> None:
        """POST one batch; return when the platform answered 200.

        Raises
        ------
        ConnectorError
            If the platform refuses the batch, fails, or cannot be reached.
        """
        body = json.dumps(dict(doc), allow_nan=False).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=body,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            self.last_answer = _json(exc.read())
            code = self.last_answer.get("code", exc.reason)
            msg = (
                f"platform {self.url} answered {exc.code} ({code}) to batch {doc.get('seq')}: "
                f"{self.last_answer.get('message', '')}"
            ).rstrip(": ")
            raise ConnectorError(msg) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            self.last_answer = {}
            msg = f"platform {self.url} is unreachable ({getattr(exc, 'reason', exc)})"
            raise ConnectorError(msg) from None
        self.last_answer = _json(raw)
        if status != 200:
            msg = f"platform {self.url} answered {status} to batch {doc.get('seq')}"
            raise ConnectorError(msg)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}
