"""Offline sync and the collector's online path: verified batches into the pipeline.

A collector signs every batch with its own key (its credential); the platform checks the
signature before anything lands, refuses unknown collectors (quarantined, audited), and runs
the readings through the same :class:`~carbontwin.runtime.ingest.Ingestor` as every live
source, so a batch sent twice — over the link and again in a bundle — lands once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from carbontwin.connectors.collector import read_bundle, verify_batch
from carbontwin.connectors.errors import ConnectorError
from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.core.records import QuarantineRecord
from carbontwin.runtime.ingest import Ingestor, IngestSummary
from carbontwin.runtime.live import readings_frame
from carbontwin.store import Store

__all__ = ["collector_keys", "receive_batch", "upload_bundle"]

#: Offline data can be old: a bundle may carry weeks of readings.
OFFLINE_MAX_AGE_S = 400 * 86_400


def collector_keys(path: str | Path) -> dict[str, bytes]:
    """Read the registered collectors' keys: a JSON object ``{collector: hex key}``.

    Raises
    ------
    ValidationError
        If the file cannot be read or a key is not hexadecimal.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        return {str(k): bytes.fromhex(str(v)) for k, v in doc.items()}
    except (OSError, ValueError, AttributeError) as exc:
        msg = (
            f"collector keys {Path(path).name} cannot be read ({exc}); write a JSON object "
            "of collector id to hexadecimal key"
        )
        raise ValidationError(msg) from None


def _refuse(store: Store, park: Park, name: str, reason: str, actor: str) -> None:
    store.quarantine(
        park.id, [QuarantineRecord(rule="file", reason=reason, origin="collector", ref=name)]
    )
    store.audit(actor, "collector.refused", name, {"reason": reason}, outcome="refused")


def upload_bundle(
    store: Store,
    park: Park,
    path: str | Path,
    keys: Mapping[str, bytes],
    *,
    actor: str = "offline-sync",
) -> tuple[dict[str, Any], IngestSummary]:
    """Verify an offline bundle and ingest its readings; return its manifest and summary.

    Raises
    ------
    ValidationError
        If the bundle is refused (unknown collector, checksum or signature mismatch); the
        refusal is quarantined and audited, and nothing of the bundle lands.
    """
    name = Path(path).name
    try:
        manifest, batches = read_bundle(path, keys)
    except ConnectorError as exc:
        _refuse(store, park, name, str(exc), actor)
        raise ValidationError(str(exc)) from None
    readings = [r for b in batches for r in b.readings]
    ingestor = Ingestor(store, park, max_age_s=OFFLINE_MAX_AGE_S, actor=actor)
    summary = ingestor.ingest(readings_frame(readings)) if readings else IngestSummary()
    store.audit(
        actor,
        "collector.bundle",
        f"collector:{manifest['collector']}",
        {
            "bundle": name,
            "first_seq": manifest["first_seq"],
            "last_seq": manifest["last_seq"],
            "readings": manifest["readings"],
            "stored": summary.stored,
            "duplicate": summary.duplicate,
            "quarantined": summary.quarantined,
        },
    )
    return manifest, summary


def receive_batch(
    store: Store, park: Park, doc: Mapping[str, Any], keys: Mapping[str, bytes], ingestor: Ingestor
) -> IngestSummary:
    """Verify one batch a collector sent over the link and ingest it.

    Raises
    ------
    ConnectorError
        If the batch is refused (the collector then keeps it and retries); the refusal is
        quarantined and audited.
    """
    try:
        batch = verify_batch(doc, keys)
    except ConnectorError as exc:
        _refuse(
            store,
            park,
            f"batch {doc.get('seq')} of {doc.get('collector')}",
            str(exc),
            ingestor.actor,
        )
        raise
    return ingestor.ingest(readings_frame(batch.readings))
