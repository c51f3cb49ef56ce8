"""The virtual BMS: applies the platform's setpoints to the twin, or its own schedule.

The contract with the platform (see ``docs/modbus.md``):

- the platform writes setpoints into holding registers and counts a heartbeat register
  up (any change is a beat);
- each :meth:`VirtualBms.step` the BMS applies the setpoints the platform has written to
  the simulator, as long as the heartbeat changed within ``heartbeat_timeout_s``;
- when it has not, the BMS falls back to its local schedule (the simulator's own
  controller, the rule-based baseline by default), sets its status register to
  ``1`` (local) and logs it once; when beats resume it logs that once, sets the status
  to ``0`` (remote) and applies the platform's setpoints again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from carbontwin.connectors.modbus.points import ModbusAddress
from carbontwin.connectors.modbus.server import VirtualGateway

__all__ = ["STATUS_LOCAL", "STATUS_REMOTE", "SimulatorLike", "VirtualBms"]

log = logging.getLogger(__name__)

#: status register values
STATUS_REMOTE = 0
STATUS_LOCAL = 1


class SimulatorLike(Protocol):
    """What the BMS needs of the twin's simulator."""

    def apply(self, decisions: dict[str, float]) -> None:
        """Apply setpoint values by name."""
        ...

    def control_state(self) -> Any:
        """Return the state a controller decides on (with its time ``t``)."""
        ...


class VirtualBms:
    """A building management system behind a virtual gateway.

    Parameters
    ----------
    gateway : VirtualGateway
        Serves the setpoint, heartbeat and status registers.
    simulator : SimulatorLike
        Receives the setpoints (``apply``) and the state for the local schedule.
    setpoints : mapping of str to ModbusAddress
        Setpoint name (``<asset>.<name>``) → its holding register(s).
    heartbeat, status : ModbusAddress
        The heartbeat register the platform counts up and the status register the BMS
        reports its mode in (0 remote, 1 local).
    heartbeat_timeout_s : float, optional
        Longest time without a beat before falling back [s].
    controller : object with ``decide(state, t)``, optional
        The local schedule; the simulator's ``controller`` by default.
    clock : callable, optional
        Monotonic seconds.

    Attributes
    ----------
    mode : str
        ``remote`` or ``local``.
    events : list of tuple
        ``(clock time, mode)`` at each change of mode.
    """

    def __init__(
        self,
        gateway: VirtualGateway,
        simulator: SimulatorLike,
        setpoints: Mapping[str, ModbusAddress],
        heartbeat: ModbusAddress,
        status: ModbusAddress,
        *,
        heartbeat_timeout_s: float = 30.0,
        controller: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gateway, self.simulator = gateway, simulator
        self.setpoints = dict(setpoints)
        self.heartbeat, self.status = heartbeat, status
        self.heartbeat_timeout_s = float(heartbeat_timeout_s)
        self.controller = controller if controller is not None else simulator.controller  # type: ignore[attr-defined]
        self.clock = clock
        self.mode = "remote"
        self.events: list[tuple[float, str]] = []
        self._beat: float | None = None
        self._beat_t = clock()
        self._applied: dict[str, float] = {}

    async def step(self) -> str:
        """Check the heartbeat and apply the platform's setpoints or the local schedule.

        Returns
        -------
        str
            The mode after the step, ``remote`` or ``local``.
        """
        now = self.clock()
        beat = await self.gateway.get(self.heartbeat.name)
        if beat != self._beat:
            self._beat, self._beat_t = beat, now
        silent_s = now - self._beat_t
        if silent_s > self.heartbeat_timeout_s:
            if self.mode != "local":
                self.mode = "local"
                self.events.append((now, "local"))
                await self.gateway.update({self.status.name: STATUS_LOCAL})
                log.warning(
                    "BMS on gateway %s: no heartbeat for %.1f s (> %.1f s); "
                    "falling back to the local schedule",
                    self.gateway.gateway,
                    silent_s,
                    self.heartbeat_timeout_s,
                )
                self._applied.clear()
            state = self.simulator.control_state()
            self.simulator.apply(self.controller.decide(state, state.t))
            return self.mode
        if self.mode != "remote":
            self.mode = "remote"
            self.events.append((now, "remote"))
            await self.gateway.update({self.status.name: STATUS_REMOTE})
            log.warning(
                "BMS on gateway %s: heartbeat back; remote setpoints apply", self.gateway.gateway
            )
        decisions = {}
        for name, address in self.setpoints.items():
            if address.name in self.gateway.written:
                value = await self.gateway.get(address.name)
                if self._applied.get(name) != value:
                    decisions[name] = value
        if decisions:
            self.simulator.apply(decisions)
            self._applied.update(decisions)
        return self.mode

    async def run(self, stop: asyncio.Event, period_s: float = 1.0) -> None:
        """Step every ``period_s`` until ``stop`` is set."""
        while not stop.is_set():
            await self.step()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), period_s)
