"""Alarms in the store: raised from anomalies, acknowledged and closed by people.

:class:`AlarmsMixin` is part of :class:`~carbontwin.store.Store`. Finding anomalies is the
detectors' work (:mod:`carbontwin.forecasting.anomaly`) and deciding who may see or close
an alarm is :mod:`carbontwin.runtime.access`'s; the store keeps the alarms and audits what
people do with them (``alarms.acknowledge``, ``alarms.close``). An anomaly of a point and
kind seen again while its alarm is not closed updates that alarm (``last_seen_at``,
``count``, the higher severity) instead of opening another, so a stuck meter is one alarm,
not one per reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.store.errors import NotFoundError
from carbontwin.store.models import AlarmRow
from carbontwin.store.parts import StorePart, columns, newest_first

__all__ = ["ALARM_STATUSES", "SEVERITIES", "AlarmsMixin"]

#: An alarm's statuses, in the order it moves through them.
ALARM_STATUSES: tuple[str, ...] = ("open", "acknowledged", "closed")
#: Severities, least to most severe.
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AlarmsMixin(StorePart):
    """Alarms raised from anomalies (part of :class:`Store`)."""

    def raise_alarms(
        self,
        park_id: str,
        anomalies: Sequence[Mapping[str, Any]],
        *,
        now: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Open alarms for ``anomalies``, or update the open ones of the same point and kind.

        Parameters
        ----------
        park_id : str
            The park.
        anomalies : sequence of mapping
            Each with ``point``, ``kind``, ``severity`` (one of :data:`SEVERITIES`),
            ``message_en``, ``ts`` (the reading's aware time) and optionally ``enterprise``,
            ``message_zh`` and ``score``.

        Returns
        -------
        list of dict
            The alarms opened or updated, every column.
        """
        now = now or _now()
        for a in anomalies:
            if a.get("severity") not in SEVERITIES:
                msg = f"alarm severity {a.get('severity')!r} is not one of {', '.join(SEVERITIES)}"
                raise ValidationError(msg)
            for key in ("point", "kind", "message_en", "ts"):
                if not a.get(key):
                    msg = f"an alarm needs {key}; got {dict(a)!r}"
                    raise ValidationError(msg)
        if not anomalies:
            return []
        out: dict[int, AlarmRow] = {}
        with self._writing(f"raising {len(anomalies)} alarms") as session:
            keys = {(str(a["point"]), str(a["kind"])) for a in anomalies}
            current = {
                (r.point, r.kind): r
                for r in session.scalars(
                    sa.select(AlarmRow).where(
                        AlarmRow.park_id == park_id,
                        AlarmRow.status != "closed",
                        AlarmRow.point.in_(sorted({p for p, _ in keys})),
                    )
                )
                if (r.point, r.kind) in keys
            }
            for a in anomalies:
                key = (str(a["point"]), str(a["kind"]))
                row = current.get(key)
                if row is None:
                    row = AlarmRow(
                        park_id=park_id,
                        point=key[0],
                        enterprise=str(a.get("enterprise") or ""),
                        kind=key[1],
                        severity=str(a["severity"]),
                        message_en=str(a["message_en"]),
                        message_zh=str(a.get("message_zh") or ""),
                        score=None if a.get("score") is None else float(a["score"]),
                        reading_ts=a["ts"],
                        opened_at=now,
                        last_seen_at=now,
                        count=1,
                        status="open",
                        note="",
                    )
                    session.add(row)
                    current[key] = row
                else:
                    row.count += 1
                    row.last_seen_at = now
                    row.reading_ts = a["ts"]
                    if SEVERITIES.index(str(a["severity"])) > SEVERITIES.index(row.severity):
                        row.severity = str(a["severity"])
                        row.message_en = str(a["message_en"])
                        row.message_zh = str(a.get("message_zh") or "")
                session.flush()
                out[row.id] = row
            return [columns(r) for r in out.values()]

    def alarms(
        self,
        park_id: str,
        *,
        status: Sequence[str] | None = None,
        points: Sequence[str] | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Return a park's alarms, newest first, optionally by status and point."""
        query = newest_first(AlarmRow, park_id, status, points, limit)
        with self._reading("reading alarms") as session:
            return [columns(r) for r in session.scalars(query)]

    def alarm(self, alarm_id: int) -> dict[str, Any]:
        """Return one alarm (``NotFoundError`` if there is none)."""
        with self._reading(f"reading alarm {alarm_id}") as session:
            row = session.get(AlarmRow, alarm_id)
            if row is None:
                msg = f"there is no alarm {alarm_id}"
                raise NotFoundError(msg)
            return columns(row)

    def update_alarm(
        self, alarm_id: int, status: str, *, actor: str, note: str = "", client: str = ""
    ) -> dict[str, Any]:
        """Acknowledge or close an alarm and audit it.

        Raises
        ------
        NotFoundError
            If there is no such alarm.
        ConsistencyError
            If the alarm is closed already, or is acknowledged again.
        ValidationError
            If ``status`` is not ``acknowledged`` or ``closed``, or closing has no note.
        """
        if status not in ("acknowledged", "closed"):
            msg = f"an alarm is acknowledged or closed; got {status!r}"
            raise ValidationError(msg)
        if status == "closed" and not note.strip():
            msg = "closing an alarm needs a note: what was found and done"
            raise ValidationError(msg)
        now = _now()
        with self._writing(f"updating alarm {alarm_id}") as session:
            row = session.get(AlarmRow, alarm_id)
            if row is None:
                msg = f"there is no alarm {alarm_id}"
                raise NotFoundError(msg)
            if row.status == "closed":
                msg = f"alarm {alarm_id} is closed already (by {row.closed_by} at {row.closed_at})"
                raise ConsistencyError(msg)
            if status == row.status:
                msg = f"alarm {alarm_id} is {status} already (by {row.acknowledged_by})"
                raise ConsistencyError(msg)
            if status == "acknowledged":
                row.acknowledged_by, row.acknowledged_at = actor, now
            else:
                row.closed_by, row.closed_at = actor, now
            row.status = status
            if note.strip():
                row.note = note.strip()
            action = "alarms.acknowledge" if status == "acknowledged" else "alarms.close"
            self._append_audit(
                session,
                actor,
                action,
                f"alarm:{alarm_id}",
                {"park_id": row.park_id, "point": row.point, "kind": row.kind, "note": row.note},
                client=client,
            )
            session.flush()
            return columns(row)
