"""Control strategies in the store: proposed by the optimisers, decided on by people.

:class:`StrategiesMixin` is part of :class:`~carbontwin.store.Store`. Building a strategy
is the optimisers' work (:mod:`carbontwin.runtime.strategies`) and deciding who may accept
one is :mod:`carbontwin.runtime.access`'s; the store keeps each strategy and moves it
through its statuses, auditing every step (``strategies.propose``, ``strategies.accept``,
``strategies.reject``, ``strategies.dispatch``, ``strategies.advise``,
``strategies.verify``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.store.errors import NotFoundError
from carbontwin.store.models import StrategyRow
from carbontwin.store.parts import StorePart, columns, newest_first

__all__ = ["MODES", "STRATEGY_STATUSES", "TRANSITIONS", "StrategiesMixin"]

#: ``dispatch``: setpoints go to the assets; ``advice``: operators are told what to do.
MODES: tuple[str, ...] = ("dispatch", "advice")
#: A strategy's statuses.
STRATEGY_STATUSES: tuple[str, ...] = (
    "proposed",
    "accepted",
    "rejected",
    "dispatched",
    "advised",
    "verified",
)
#: Status → the statuses it may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("accepted", "rejected"),
    "accepted": ("dispatched", "advised"),
    "rejected": (),
    "dispatched": ("verified",),
    "advised": ("verified",),
    "verified": (),
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class StrategiesMixin(StorePart):
    """Control strategies (part of :class:`Store`)."""

    def add_strategy(
        self,
        park_id: str,
        strategy: Mapping[str, Any],
        *,
        actor: str,
        client: str = "",
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Store a proposed strategy and audit it.

        Parameters
        ----------
        strategy : mapping
            ``mode`` (one of :data:`MODES`), ``start`` (aware), ``interval_s``, ``steps``,
            ``schedule`` (setpoint → ``steps`` values), ``expected``, ``reasons`` (``en`` and
            ``zh`` lists), ``solver`` and optionally ``title``.

        Raises
        ------
        ValidationError
            If the mode is unknown, the start is naive or a schedule's length is not
            ``steps``.
        """
        mode = str(strategy.get("mode", ""))
        if mode not in MODES:
            msg = f"strategy mode {mode!r} is not one of {', '.join(MODES)}"
            raise ValidationError(msg)
        start = strategy["start"]
        if not isinstance(start, dt.datetime) or start.tzinfo is None:
            msg = f"strategy start {start!r} must be an aware datetime"
            raise ValidationError(msg)
        steps = int(strategy["steps"])
        schedule = {str(k): [float(v) for v in vals] for k, vals in strategy["schedule"].items()}
        for name, vals in schedule.items():
            if len(vals) != steps:
                msg = f"strategy schedule of {name} has {len(vals)} values; steps is {steps}"
                raise ValidationError(msg)
        now = now or _now()
        with self._writing("storing a strategy") as session:
            row = StrategyRow(
                park_id=park_id,
                mode=mode,
                status="proposed",
                title=str(strategy.get("title") or ""),
                start=start,
                interval_s=int(strategy["interval_s"]),
                steps=steps,
                schedule=schedule,
                expected=dict(strategy.get("expected") or {}),
                reasons=dict(strategy.get("reasons") or {"en": [], "zh": []}),
                solver=dict(strategy.get("solver") or {}),
                created_by=actor,
                created_at=now,
                comment="",
            )
            session.add(row)
            session.flush()
            self._append_audit(
                session,
                actor,
                "strategies.propose",
                f"strategy:{row.id}",
                {"park_id": park_id, "mode": mode, "start": start.isoformat(), "steps": steps},
                client=client,
            )
            return columns(row)

    def strategies(
        self, park_id: str, *, status: Sequence[str] | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Return a park's strategies, newest first, optionally by status."""
        query = newest_first(StrategyRow, park_id, status, None, limit)
        with self._reading("reading strategies") as session:
            return [columns(r) for r in session.scalars(query)]

    def strategy(self, strategy_id: int) -> dict[str, Any]:
        """Return one strategy (``NotFoundError`` if there is none)."""
        with self._reading(f"reading strategy {strategy_id}") as session:
            row = session.get(StrategyRow, strategy_id)
            if row is None:
                msg = f"there is no strategy {strategy_id}"
                raise NotFoundError(msg)
            return columns(row)

    def move_strategy(
        self,
        strategy_id: int,
        status: str,
        *,
        actor: str,
        comment: str = "",
        setpoints: Sequence[int] | None = None,
        measured: Mapping[str, Any] | None = None,
        client: str = "",
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Move a strategy to ``status`` and audit it.

        Accepting and rejecting record the decision (rejecting needs a comment);
        dispatching records the setpoints issued so far (later steps are added by
        :meth:`add_strategy_setpoints`); verifying the measured effect.

        Raises
        ------
        NotFoundError
            If there is no such strategy.
        ConsistencyError
            If the strategy cannot move from its status to ``status`` (the message names
            where it may go), or advice is dispatched / a dispatch strategy advised.
        ValidationError
            If ``status`` is unknown, a rejection has no comment, a dispatch no setpoints
            or a verification no measurement.
        """
        if status not in STRATEGY_STATUSES or status == "proposed":
            msg = f"a strategy moves to one of {', '.join(STRATEGY_STATUSES[1:])}; got {status!r}"
            raise ValidationError(msg)
        if status == "rejected" and not comment.strip():
            msg = "rejecting a strategy needs a comment: why it is not wanted"
            raise ValidationError(msg)
        if status == "dispatched" and setpoints is None:
            msg = "a dispatched strategy needs the ids of the setpoints issued (may be none yet)"
            raise ValidationError(msg)
        if status == "verified" and not measured:
            msg = "verifying a strategy needs the measured effect"
            raise ValidationError(msg)
        now = now or _now()
        with self._writing(f"updating strategy {strategy_id}") as session:
            row = session.get(StrategyRow, strategy_id)
            if row is None:
                msg = f"there is no strategy {strategy_id}"
                raise NotFoundError(msg)
            allowed = TRANSITIONS[row.status]
            if status not in allowed:
                where = f"it may become {' or '.join(allowed)}" if allowed else "it is final"
                by = f" by {row.decided_by}" if row.decided_by else ""
                msg = f"strategy {strategy_id} is {row.status}{by}; {where}, not {status}"
                raise ConsistencyError(msg)
            if status == "dispatched" and row.mode != "dispatch":
                msg = f"strategy {strategy_id} is advice: push it to operators, do not dispatch it"
                raise ConsistencyError(msg)
            if status == "advised" and row.mode != "advice":
                msg = f"strategy {strategy_id} sends setpoints: dispatch it, not advise it"
                raise ConsistencyError(msg)
            if status in ("accepted", "rejected"):
                row.decided_by, row.decided_at = actor, now
                row.comment = comment.strip()
            elif status in ("dispatched", "advised"):
                row.dispatched_by, row.dispatched_at = actor, now
                if setpoints is not None:
                    row.setpoints = [int(i) for i in setpoints]
            else:
                row.verified_at = now
                row.measured = dict(measured or {})
            row.status = status
            detail: dict[str, Any] = {"park_id": row.park_id, "status": status}
            if comment.strip():
                detail["comment"] = comment.strip()
            if setpoints:
                detail["setpoints"] = len(setpoints)
            action = {
                "accepted": "strategies.accept",
                "rejected": "strategies.reject",
                "dispatched": "strategies.dispatch",
                "advised": "strategies.advise",
                "verified": "strategies.verify",
            }[status]
            self._append_audit(
                session, actor, action, f"strategy:{strategy_id}", detail, client=client
            )
            session.flush()
            return columns(row)

    def add_strategy_setpoints(self, strategy_id: int, setpoints: Sequence[int]) -> dict[str, Any]:
        """Record more setpoints issued for a dispatched strategy (its later steps)."""
        with self._writing(f"updating strategy {strategy_id}") as session:
            row = session.get(StrategyRow, strategy_id)
            if row is None:
                msg = f"there is no strategy {strategy_id}"
                raise NotFoundError(msg)
            if row.status != "dispatched":
                msg = (
                    f"strategy {strategy_id} is {row.status}; only a dispatched one issues "
                    "setpoints"
                )
                raise ConsistencyError(msg)
            row.setpoints = [*(row.setpoints or []), *(int(i) for i in setpoints)]
            session.flush()
            return columns(row)
