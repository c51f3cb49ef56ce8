"""Setpoint dispatch: the one way setpoints leave the platform.

Every command goes through :meth:`Dispatcher.dispatch`, which, in order:

1. refuses a setpoint without a rule or a target, or a value outside the rule's
   ``lo..hi`` (outcome ``refused``, with the reason);
2. refuses a write sooner than ``min_interval_s`` after the last one to that setpoint, or
   a step larger than ``max_step`` from its last value (outcome ``rate_limited``);
3. writes it (a Modbus holding register through the client, or an MQTT command through a
   transport callable); a transport failure is outcome ``error``;
4. reads it back and confirms it (``ok``) or reports it ``failed`` when the device holds
   another value (beyond ``tolerance``);

and records the command and its outcome through the ``audit(actor, action, object,
detail, outcome)`` callable (``Store.audit`` fits). :meth:`Dispatcher.beat` writes the
heartbeat the devices watch; they fall back to their local schedule when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from carbontwin.connectors.errors import ConnectorError
from carbontwin.connectors.modbus.points import ModbusAddress
from carbontwin.core.errors import ValidationError

__all__ = [
    "DispatchResult",
    "Dispatcher",
    "ModbusTarget",
    "MqttTarget",
    "SetpointRule",
    "Target",
    "rules_from_setpoints",
]

AuditFn = Callable[[str, str, str, Mapping[str, Any], str], Any]


@dataclass(frozen=True)
class SetpointRule:
    """Limits of one setpoint.

    Attributes
    ----------
    name : str
        ``<asset>.<name>``.
    lo, hi : float
        Allowed range (in the setpoint's unit).
    min_interval_s : float
        Shortest time between two writes [s].
    max_step : float or None
        Largest change per write (in the setpoint's unit); any when None.
    tolerance : float
        Largest read-back difference still confirmed (encoding rounding).
    """

    name: str
    lo: float
    hi: float
    min_interval_s: float = 0.0
    max_step: float | None = None
    tolerance: float = 1e-6

    def __post_init__(self) -> None:
        if not self.lo <= self.hi:
            msg = f"setpoint {self.name}: lo(={self.lo}) must be <= hi(={self.hi})"
            raise ValidationError(msg)


def rules_from_setpoints(
    setpoints: Mapping[str, Any],
    *,
    min_interval_s: float = 0.0,
    max_step: Mapping[str, float] | None = None,
) -> dict[str, SetpointRule]:
    """Return rules from the twin's setpoints (objects with ``lo`` and ``hi``).

    Examples
    --------
    >>> from carbontwin.core import load_park, demo_park_path
    >>> from carbontwin.twin.control import setpoints
    >>> rules = rules_from_setpoints(setpoints(load_park(demo_park_path())), min_interval_s=60)
    >>> rules["A-E03-BESS.power_kw"].hi, rules["A-E03-BESS.power_kw"].min_interval_s
    (500.0, 60)
    """
    steps = max_step or {}
    return {
        name: SetpointRule(name, float(sp.lo), float(sp.hi), min_interval_s, steps.get(name))
        for name, sp in setpoints.items()
    }


class Target(Protocol):
    """Where a setpoint is written and read back."""

    description: str

    async def write(self, value: float) -> None:
        """Send the value to the device."""
        ...

    async def read_back(self) -> float | None:
        """Return the value the device holds now (None when it cannot be read)."""
        ...


@dataclass
class ModbusTarget:
    """A setpoint in holding register(s) of a Modbus device, through a client."""

    client: Any
    address: ModbusAddress

    @property
    def description(self) -> str:
        """Where the value goes."""
        a = self.address
        return f"modbus:{a.gateway}/{a.unit_id}/{a.register}"

    async def write(self, value: float) -> None:
        """Encode and write the value."""
        a = self.address
        await self.client.write(a.unit_id, a.register, a.encode(value))

    async def read_back(self) -> float | None:
        """Read and decode the register(s)."""
        a = self.address
        return a.decode(await self.client.read(a.unit_id, "holding", a.register, a.count))


async def _maybe(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


@dataclass
class MqttTarget:
    """A setpoint sent as an MQTT command through a transport callable.

    ``send(topic, payload)`` publishes the command (sync or async); ``read_back()``
    returns the device's reported value (the last state message), None when unknown.
    """

    topic: str
    send: Callable[[str, Mapping[str, Any]], Any]
    read_state: Callable[[], Any] | None = None
    name: str = ""

    @property
    def description(self) -> str:
        """Where the value goes."""
        return f"mqtt:{self.topic}"

    async def write(self, value: float) -> None:
        """Publish ``{"setpoint": name, "value": value}``."""
        await _maybe(self.send(self.topic, {"setpoint": self.name, "value": float(value)}))

    async def read_back(self) -> float | None:
        """Return the reported value, if a reader was given."""
        if self.read_state is None:
            return None
        value = await _maybe(self.read_state())
        return None if value is None else float(value)


@dataclass(frozen=True)
class DispatchResult:
    """The outcome of one command.

    ``outcome`` is ``ok`` (written and confirmed, or written when the target cannot be
    read back: ``confirmed`` False), ``refused``, ``rate_limited``, ``failed`` (read-back
    differs) or ``error`` (the transport failed).
    """

    name: str
    value: float
    outcome: str
    reason: str = ""
    read_back: float | None = None
    confirmed: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the command was written (and confirmed where it could be)."""
        return self.outcome == "ok"


class Dispatcher:
    """Sends setpoints within their rules, confirms them, audits every command.

    Parameters
    ----------
    rules : mapping of str to SetpointRule
        Per setpoint name.
    targets : mapping of str to target
        Per setpoint name: a :class:`ModbusTarget` or :class:`MqttTarget`.
    audit : callable
        ``audit(actor, action, object, detail, outcome)``, e.g. ``Store.audit``.
    actor : str, optional
        Recorded as the actor of each command.
    heartbeats : iterable of ModbusTarget, optional
        Heartbeat registers (``uint16``) counted up by :meth:`beat`.
    clock : callable, optional
        Monotonic seconds.
    """

    def __init__(
        self,
        rules: Mapping[str, SetpointRule],
        targets: Mapping[str, Any],
        audit: AuditFn,
        *,
        actor: str = "dispatch",
        heartbeats: list[ModbusTarget] | tuple[ModbusTarget, ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules, self.targets = dict(rules), dict(targets)
        self.audit_fn, self.actor, self.clock = audit, actor, clock
        self.heartbeats = list(heartbeats)
        self.beats = 0
        self._last: dict[str, tuple[float, float]] = {}  # name → (clock, value)
        self._locks: dict[str, asyncio.Lock] = {}

    def _record(self, result: DispatchResult, target: str) -> DispatchResult:
        detail = {
            "value": result.value,
            "reason": result.reason,
            "read_back": result.read_back,
            "target": target,
            **result.detail,
        }
        self.audit_fn(
            self.actor, "setpoint.dispatch", f"setpoint:{result.name}", detail, result.outcome
        )
        return result

    def _check(self, name: str, value: float) -> tuple[str, str]:
        rule = self.rules.get(name)
        if rule is None:
            return "refused", f"{name} has no dispatch rule; known: {', '.join(sorted(self.rules))}"
        if name not in self.targets:
            return "refused", f"{name} has no target to write to"
        if not math.isfinite(value) or not rule.lo <= value <= rule.hi:
            return "refused", f"value(={value}) is outside {rule.lo}..{rule.hi} for {name}"
        last = self._last.get(name)
        if last is not None:
            t_last, v_last = last
            since = self.clock() - t_last
            if since < rule.min_interval_s:
                return "rate_limited", (
                    f"{since:.1f} s since the last write to {name}; "
                    f"at least {rule.min_interval_s:g} s between writes"
                )
            if rule.max_step is not None and abs(value - v_last) > rule.max_step:
                return "rate_limited", (
                    f"step {value - v_last:+g} from {v_last:g} exceeds max_step {rule.max_step:g} "
                    f"for {name}; approach in smaller steps"
                )
        return "", ""

    async def dispatch(self, name: str, value: float) -> DispatchResult:
        """Check, write, read back and audit one setpoint command.

        Returns
        -------
        DispatchResult
            Never raises for a device problem: it is the ``error`` outcome.
        """
        value = float(value)
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            target = self.targets.get(name)
            where = target.description if target is not None else ""
            outcome, reason = self._check(name, value)
            if outcome:
                return self._record(DispatchResult(name, value, outcome, reason), where)
            try:
                await target.write(value)
            except ConnectorError as exc:
                return self._record(DispatchResult(name, value, "error", str(exc)), where)
            self._last[name] = (self.clock(), value)
            try:
                back = await target.read_back()
            except ConnectorError as exc:
                result = DispatchResult(name, value, "failed", f"read-back failed: {exc}")
                return self._record(result, where)
            if back is None:
                result = DispatchResult(name, value, "ok", "written; target cannot be read back")
                return self._record(result, where)
            tol = self.rules[name].tolerance
            if abs(back - value) > tol:
                reason = f"read back {back:g} after writing {value:g} (tolerance {tol:g})"
                return self._record(DispatchResult(name, value, "failed", reason, back), where)
            return self._record(DispatchResult(name, value, "ok", "", back, confirmed=True), where)

    async def beat(self) -> int:
        """Count every heartbeat register up by one (mod 65536); return the count.

        A failed heartbeat write is audited (``setpoint.heartbeat``, outcome ``error``)
        and does not raise: the devices notice the silence and fall back.
        """
        self.beats = (self.beats + 1) % 0x10000
        for hb in self.heartbeats:
            try:
                await hb.write(self.beats)
            except ConnectorError as exc:
                self.audit_fn(
                    self.actor,
                    "setpoint.heartbeat",
                    f"heartbeat:{hb.address.name}",
                    {"beat": self.beats, "reason": str(exc), "target": hb.description},
                    "error",
                )
        return self.beats

    async def run_heartbeat(self, stop: asyncio.Event, period_s: float = 5.0) -> None:
        """Beat every ``period_s`` until ``stop`` is set."""
        while not stop.is_set():
            await self.beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), period_s)
