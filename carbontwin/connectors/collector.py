"""The collector's store-and-forward buffer and offline bundles (CPCIF 8.3, CECS 5.9.6).

A collector (edge agent) reads local devices and forwards batches of readings to the
platform. Every batch first lands in an on-disk SQLite queue (``synchronous=FULL``: a batch
that :meth:`CollectorBuffer.put` returned survives a crash), gets a sequence number and an
HMAC-SHA256 signature over its canonical JSON, and is deleted only when the platform has
acknowledged it. While the link is down batches accumulate; when it returns they are sent
in sequence order from the first unacknowledged one (resume from the break point). A batch
whose acknowledgement was lost is sent again; the platform's insert-ignore on
(point, time) makes it land once.

The buffer is bounded by ``capacity_readings`` (size it for at least a week of the
collector's points). When full, the policy is ``refuse``: :meth:`put` raises
:class:`BufferFull` and nothing already buffered is touched — the caller keeps polling and
the gap is visible, rather than silently losing old data.

For links that are down for good, :meth:`CollectorBuffer.export_bundle` writes the
unacknowledged batches to a file (JSON lines plus a manifest with the SHA-256 of the content
and an HMAC signature) that is carried to the platform and verified by
:func:`read_bundle` before anything lands.

Examples
--------
>>> buf = CollectorBuffer(":memory:", collector="gw-1", key=b"k", capacity_readings=100)
>>> buf.put([{"point": "P1", "ts": 1_735_689_600_000, "value": 1.5}])
1
>>> [b.seq for b in buf.pending()]
[1]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carbontwin.connectors.errors import ConnectorError

__all__ = [
    "Batch",
    "BufferFull",
    "Collector",
    "CollectorBuffer",
    "batch_signature",
    "read_bundle",
    "verify_batch",
]

BUNDLE_FORMAT = "carbontwin.bundle/1"


class BufferFull(ConnectorError):
    """The collector's buffer holds its maximum; new readings are refused, none dropped."""


def _canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def batch_signature(
    key: bytes, collector: str, seq: int, readings: Sequence[Mapping[str, Any]]
) -> str:
    """Return the HMAC-SHA256 (hex) of a batch's canonical JSON under the collector's key."""
    body = _canonical({"collector": collector, "seq": seq, "readings": list(readings)})
    return hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Batch:
    """A signed batch of readings: ``{"point", "ts" (UTC epoch ms), "value", "q"}`` each."""

    collector: str
    seq: int
    readings: list[dict[str, Any]]
    signature: str

    def to_json(self) -> dict[str, Any]:
        """Return the batch as the JSON document sent to the platform."""
        return {
            "collector": self.collector,
            "seq": self.seq,
            "readings": self.readings,
            "signature": self.signature,
        }


def verify_batch(doc: Mapping[str, Any], keys: Mapping[str, bytes]) -> Batch:
    """Check a received batch against its collector's key and return it.

    Raises
    ------
    ConnectorError
        If the collector is unknown (refused and to be logged), fields are missing, or the
        signature does not match the content.
    """
    try:
        collector, seq, readings, sig = (
            doc["collector"],
            int(doc["seq"]),
            doc["readings"],
            str(doc["signature"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"batch is missing {exc}; a batch carries collector, seq, readings, signature"
        raise ConnectorError(msg) from None
    if collector not in keys:
        msg = f"collector {collector!r} is not registered; its batch {seq} was refused"
        raise ConnectorError(msg)
    expected = batch_signature(keys[collector], collector, seq, readings)
    if not hmac.compare_digest(expected, sig):
        msg = (
            f"batch {seq} of collector {collector!r} fails its signature check: the content "
            "was changed in transit or signed with another key"
        )
        raise ConnectorError(msg)
    return Batch(collector, seq, list(readings), sig)


class CollectorBuffer:
    """The on-disk queue of a collector.

    Parameters
    ----------
    path : str or Path
        SQLite file of the queue (``":memory:"`` for tests).
    collector : str
        The collector's id, as registered on the platform.
    key : bytes
        The collector's secret; batches are signed with it.
    capacity_readings : int
        Most readings held at once [1]; size it for at least a week of the points' data.
    """

    def __init__(
        self, path: str | Path, *, collector: str, key: bytes, capacity_readings: int
    ) -> None:
        self.collector, self._key, self.capacity = collector, key, int(capacity_readings)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, "
            "n INTEGER NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER)")
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('last_seq', 0)")

    def close(self) -> None:
        """Close the queue file."""
        self._db.close()

    @property
    def size(self) -> int:
        """Readings held now [1]."""
        return int(self._db.execute("SELECT COALESCE(SUM(n), 0) FROM batches").fetchone()[0])

    def put(self, readings: Iterable[Mapping[str, Any]]) -> int:
        """Sign and store a batch; return its sequence number.

        Raises
        ------
        BufferFull
            If the batch would exceed the capacity; nothing buffered is dropped.
        ConnectorError
            If a reading is not JSON-serialisable (NaN, infinity).
        """
        rows = [dict(r) for r in readings]
        if self.size + len(rows) > self.capacity:
            msg = (
                f"collector {self.collector!r}: buffer full ({self.size} of "
                f"{self.capacity} readings held while the link is down); the new batch "
                "is refused and nothing buffered is dropped — restore the link or export "
                "an offline bundle"
            )
            raise BufferFull(msg)
        try:
            body = _canonical({"readings": rows}).decode("utf-8")
        except ValueError as exc:
            msg = f"collector {self.collector!r}: a reading is not valid JSON ({exc})"
            raise ConnectorError(msg) from None
        self._db.execute("BEGIN IMMEDIATE")
        try:
            seq = int(self._db.execute("SELECT v FROM meta WHERE k='last_seq'").fetchone()[0]) + 1
            sig = batch_signature(self._key, self.collector, seq, rows)
            self._db.execute("INSERT INTO batches VALUES (?, ?, ?, ?)", (seq, len(rows), body, sig))
            self._db.execute("UPDATE meta SET v=? WHERE k='last_seq'", (seq,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return seq

    def iter_pending(self, limit: int | None = None) -> Iterator[Batch]:
        """Yield unacknowledged batches in sequence order, the break point first.

        Each batch is read and decoded only when it is reached, so a sender that stops at
        the first failure costs one batch, however much is buffered.
        """
        query = "SELECT seq FROM batches ORDER BY seq"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        for (seq,) in self._db.execute(query).fetchall():
            row = self._db.execute(
                "SELECT body, signature FROM batches WHERE seq = ?", (seq,)
            ).fetchone()
            if row is not None:
                yield Batch(self.collector, seq, json.loads(row[0])["readings"], row[1])

    def pending(self, limit: int | None = None) -> list[Batch]:
        """Return unacknowledged batches in sequence order (the break point first)."""
        return list(self.iter_pending(limit))

    def ack(self, seq: int) -> None:
        """Forget every batch up to and including ``seq`` (the platform has it)."""
        self._db.execute("DELETE FROM batches WHERE seq <= ?", (int(seq),))

    def export_bundle(self, path: str | Path) -> dict[str, Any]:
        """Write the unacknowledged batches to an offline bundle; return its manifest.

        The batches stay buffered until the platform acknowledges the bundle
        (:meth:`ack` with the manifest's ``last_seq``).
        """
        batches = self.pending()
        lines = "".join(json.dumps(b.to_json(), sort_keys=True) + "\n" for b in batches)
        digest = hashlib.sha256(lines.encode("utf-8")).hexdigest()
        manifest = {
            "format": BUNDLE_FORMAT,
            "collector": self.collector,
            "batches": len(batches),
            "readings": sum(len(b.readings) for b in batches),
            "first_seq": batches[0].seq if batches else 0,
            "last_seq": batches[-1].seq if batches else 0,
            "sha256": digest,
        }
        manifest["signature"] = hmac.new(
            self._key, _canonical(manifest), hashlib.sha256
        ).hexdigest()
        Path(path).write_text(json.dumps(manifest, sort_keys=True) + "\n" + lines, encoding="utf-8")
        return manifest


def read_bundle(path: str | Path, keys: Mapping[str, bytes]) -> tuple[dict[str, Any], list[Batch]]:
    """Verify an offline bundle and return its manifest and batches.

    Raises
    ------
    ConnectorError
        If the file is not a bundle, the collector is unknown, the checksum or a signature
        does not match, or batches are missing — nothing of a bad bundle lands.
    """
    name = Path(path).name
    try:
        head, _, lines = Path(path).read_text(encoding="utf-8").partition("\n")
        manifest = json.loads(head)
    except (OSError, ValueError) as exc:
        msg = f"{name} is not a readable bundle ({exc})"
        raise ConnectorError(msg) from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        msg = f"{name} is not a {BUNDLE_FORMAT} bundle"
        raise ConnectorError(msg)
    collector = manifest.get("collector")
    if collector not in keys:
        msg = f"{name}: collector {collector!r} is not registered; the bundle was refused"
        raise ConnectorError(msg)
    signed = {k: v for k, v in manifest.items() if k != "signature"}
    expected = hmac.new(keys[collector], _canonical(signed), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(manifest.get("signature", ""))):
        msg = f"{name}: the manifest's signature does not match; the bundle was refused"
        raise ConnectorError(msg)
    if hashlib.sha256(lines.encode("utf-8")).hexdigest() != manifest["sha256"]:
        msg = f"{name}: content checksum mismatch (the file was changed or truncated)"
        raise ConnectorError(msg)
    batches = [verify_batch(json.loads(line), keys) for line in lines.splitlines() if line]
    if len(batches) != manifest["batches"]:
        msg = f"{name}: {len(batches)} batches where the manifest says {manifest['batches']}"
        raise ConnectorError(msg)
    return manifest, batches


class Collector:
    """Read, buffer, forward: the edge agent's loop, one :meth:`cycle` at a time.

    Parameters
    ----------
    buffer : CollectorBuffer
        The on-disk queue.
    read : callable
        Returns the readings polled since the last call (list of dicts).
    send : callable
        Sends one batch document to the platform and returns when it is committed there;
        raises :class:`ConnectorError` or :class:`OSError` when the link is down.
    """

    def __init__(
        self,
        buffer: CollectorBuffer,
        read: Callable[[], list[dict[str, Any]]],
        send: Callable[[dict[str, Any]], None],
    ) -> None:
        self.buffer, self.read, self.send = buffer, read, send
        self.link_up = True
        self.refused = 0

    def cycle(self, max_batches: int = 1000) -> int:
        """Poll once, buffer what was read, forward pending batches; return batches sent."""
        readings = self.read()
        if readings:
            try:
                self.buffer.put(readings)
            except BufferFull:
                self.refused += len(readings)
        sent = 0
        for batch in self.buffer.iter_pending(max_batches):
            try:
                self.send(batch.to_json())
            except (ConnectorError, OSError):
                self.link_up = False
                break
            self.buffer.ack(batch.seq)
            self.link_up = True
            sent += 1
        return sent

    def run(self, interval_s: float, cycles: int | None = None) -> None:
        """Run :meth:`cycle` every ``interval_s`` seconds (forever when ``cycles`` is None)."""
        done = 0
        while cycles is None or done < cycles:
            self.cycle()
            done += 1
            time.sleep(interval_s)
