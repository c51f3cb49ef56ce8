"""HTTP push use cases: signed collector batches and manual entries sent to the platform.

Two kinds of client push data over the API. A collector sends signed batches of readings
(:func:`receive_collector_batch`): the signature is checked with the collector's registered
key and the readings run through the live :class:`~carbontwin.runtime.ingest.Ingestor`, so a
batch sent twice lands once. A device or an integration holding an API key sends manual
activity entries (:func:`push_entries`): the rows run through the same validation as an
uploaded file, the good ones are stored and the bad ones quarantined with their reasons.

The API layer only translates HTTP to these functions and back.

Examples
--------
>>> from carbontwin.runtime.accounting import resolve_park
>>> from carbontwin.store import Store
>>> rows = [{"source": "E04-DIESEL", "start": "2025-03-01", "end": "2025-03-31",
...          "quantity": 12000, "unit": "kg", "ref": "ledger 2025-03"},
...         {"source": "E04-DIESEL", "start": "2025-04-01", "end": "2025-04-30",
...          "quantity": -3, "unit": "t", "ref": "ledger 2025-04"}]
>>> with Store.open("sqlite://") as store:
...     result = push_entries(store, resolve_park("demo"), rows, account="erp")
>>> [(r.row, r.unit, r.quantity) for r in result.landed]
[(1, 't', 12.0)]
>>> [(q.row, q.rule) for q in result.quarantined]
[(2, 'negative')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from carbontwin.accounting.validation import validate_entries
from carbontwin.connectors.errors import ConnectorError
from carbontwin.core.park import Park
from carbontwin.runtime.ingest import Ingestor, IngestSummary
from carbontwin.runtime.offline import receive_batch
from carbontwin.runtime.registry import register_park
from carbontwin.store import Store

__all__ = [
    "LandedRow",
    "PushRefused",
    "PushResult",
    "QuarantinedRow",
    "push_entries",
    "receive_collector_batch",
]

#: The origin recorded for rows that came in through the API.
ORIGIN = "api"
#: Internal key that tracks each pushed row through validation (stripped before storing).
_ROW = "\x00row"


class PushRefused(PermissionError):
    """A push was refused for its credential; ``code`` says why, the message how to fix it.

    Codes: ``unknown_collector``, ``bad_signature`` (collector batches), ``missing_api_key``,
    ``bad_api_key`` (entries).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def receive_collector_batch(
    store: Store,
    park: Park,
    doc: Mapping[str, Any],
    keys: Mapping[str, bytes],
    ingestor: Ingestor,
) -> IngestSummary:
    """Verify a batch a collector pushed and ingest its readings; return the summary.

    Parameters
    ----------
    store : Store
        Where readings, refusals and the audit go.
    park : Park
        The park the collector reports for.
    doc : mapping
        The batch as sent: ``collector, seq, readings, signature``.
    keys : mapping of str to bytes
        The registered collectors' keys.
    ingestor : Ingestor
        The live pipeline the readings run through.

    Raises
    ------
    PushRefused
        If the collector is not registered (``unknown_collector``) or the batch fails its
        signature check (``bad_signature``); the refusal is quarantined and audited, the
        collector keeps the batch and sends it again.
    """
    try:
        return receive_batch(store, park, doc, keys, ingestor)
    except ConnectorError as exc:
        code = "unknown_collector" if doc.get("collector") not in keys else "bad_signature"
        raise PushRefused(code, str(exc)) from None


@dataclass(frozen=True)
class LandedRow:
    """A pushed row that was stored: its position, id and canonical quantity [unit]."""

    row: int
    id: str
    source: str
    stream: str
    start: dt.date
    end: dt.date
    quantity: float
    unit: str


@dataclass(frozen=True)
class QuarantinedRow:
    """A pushed row that was quarantined: its position, the rule it broke and why."""

    row: int
    rule: str
    reason: str
    ref: str = ""


@dataclass
class PushResult:
    """What became of a push: rows stored and rows quarantined, by 1-based position."""

    batch: str
    landed: list[LandedRow] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)


def push_entries(
    store: Store,
    park: Park,
    rows: Sequence[Mapping[str, object]],
    *,
    account: str,
    today: dt.date | None = None,
) -> PushResult:
    """Validate pushed activity rows against what is stored; store the good, hold the bad.

    Parameters
    ----------
    store : Store
        Where entries, quarantined rows and the audit go.
    park : Park
        The park the entries belong to (registered if it is not yet).
    rows : sequence of mapping
        Rows as in an activity file: ``source, stream, start, end, quantity, unit, ref``
        (optionally ``quality``); ``quantity`` is in ``unit``.
    account : str
        The authenticated account; recorded as ``entered_by`` and in the audit log.
    today : datetime.date, optional
        Entries may not end after this day; the current date by default.

    Returns
    -------
    PushResult
        Each row, by its 1-based position, either landed (with its id) or quarantined
        (with its rule and reason); the validation summary.
    """
    register_park(store, park, account)
    existing = store.entries(park.id, dt.date(1900, 1, 1), dt.date(2999, 12, 31))
    tagged = [
        {**{k: v for k, v in r.items() if k not in ("origin", "entered_by")}, _ROW: n}
        | {"origin": ORIGIN, "entered_by": account}
        for n, r in enumerate(rows, start=1)
    ]
    result = validate_entries(park, tagged, origin=ORIGIN, existing=existing, today=today)
    held_rows = set()
    records = []
    quarantined = []
    for q in result.quarantine:
        n = int(str(q.row.get(_ROW, 0)))
        held_rows.add(n)
        row = {k: v for k, v in q.row.items() if k != _ROW}
        records.append(q.model_copy(update={"row": row}))
        quarantined.append(QuarantinedRow(n, q.rule, q.reason, q.ref))
    batch = f"push-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    ids = store.add_entries(park.id, result.entries, batch_id=batch, actor=account)
    if records:
        store.quarantine(park.id, records, actor=account)
    positions = [n for n in range(1, len(rows) + 1) if n not in held_rows]
    landed = [
        LandedRow(n, i, e.source, e.stream, e.start, e.end, e.quantity, e.unit)
        for n, i, e in zip(positions, ids, result.entries, strict=True)
    ]
    summary = result.summary()
    store.audit(
        account,
        "entries.push",
        f"park:{park.id}",
        {"batch": batch, "rows": len(rows), "summary": summary},
    )
    return PushResult(batch, landed, quarantined, summary)
