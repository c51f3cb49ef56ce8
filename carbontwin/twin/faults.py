"""Sensor noise and realistic meter faults, injected into readings from a seed.

Each reading of a point draws one uniform number; it falls in one of the bins
``dropout | spike | stuck | skew | reset | drift | night_load | none`` whose widths are the
configured rates (:class:`~carbontwin.core.operation.FaultRates`), so each fault starts at
exactly its rate and two never start on the same reading:

- **dropout** — the reading never arrives;
- **spike** — the value is multiplied by ``spike_factor``;
- **stuck** — the meter repeats its previous value for ``stuck_readings`` readings;
- **skew** — the timestamps of ``skew_readings`` readings are off by up to ``skew_s``;
- **reset** — a cumulative register restarts from 0 (and counts on from there);
- **drift** — a meter's gain moves linearly away from 1, by ``drift_frac_per_day`` a day
  (up or down, drawn per episode), for ``drift_days``; then it is recalibrated;
- **night_load** — starting at a reading in the local night (``night_start_h`` to
  ``night_end_h``), the value is multiplied by ``night_load_factor`` until the night ends.

Resets apply to cumulative registers only. Drift and night load apply to the interval and
instantaneous readings of *load* points (those that measure an energy or material flow,
not a temperature, a percentage or a count); they are faults of the reported value, as
the other faults, so an abnormal night load shows on the one meter it is injected on, not
on the asset's other meters nor in the balance. The night is judged on local hours given
by ``local_hour``; without it no night load starts. Drift and night-load labels sit under
those of a spike or stuck value inside their episode; the gain and factor still apply.

Faults change what the point reports; the true value travels beside it.

Examples
--------
>>> from carbontwin.core.operation import FaultRates
>>> inj = FaultInjector(FaultRates(spike_frac=1.0), 1, np.random.default_rng(0))
>>> out = inj.apply(np.array([0]), np.array([[1.0, 2.0]]), np.array([0, 15]), kind=0)
>>> out.value.tolist(), out.fault.tolist()
([[10.0, 20.0]], [[1, 1]])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from carbontwin.core.operation import FaultRates
from carbontwin.twin.plants.meter import KIND_CODES, register_value

__all__ = ["FAULT_CODES", "FaultInjector", "Injected"]

#: Fault labels carried by readings and the fault log.
FAULT_CODES = {
    "none": 0,
    "spike": 1,
    "stuck": 2,
    "skew": 3,
    "reset": 4,
    "dropout": 5,
    "drift": 6,
    "night_load": 7,
}
_NONE_BIN = 7  # onset bins: 0 dropout, 1 spike, 2 stuck, 3 skew, 4 reset, 5 drift, 6 night


@dataclass
class Injected:
    """Readings of a group of points after noise and faults (points × readings)."""

    value: np.ndarray
    keep: np.ndarray  # False where a reading dropped out
    skew_ms: np.ndarray  # timestamp offsets [ms]
    fault: np.ndarray  # FAULT_CODES of each reading
    log: list[tuple[int, int, int]]  # (point, reading step, code) of each onset


class FaultInjector:
    """Applies noise and faults to the readings of all points, carrying episodes over.

    Parameters
    ----------
    rates : FaultRates
        Noise levels and fault rates.
    n_points : int
        Number of points.
    rng : numpy.random.Generator
        The run's fault stream.
    temperature : numpy.ndarray of bool, optional
        Points whose noise is absolute (``temp_noise_k``) rather than relative.
    load : numpy.ndarray of bool, optional
        Points that may drift or carry an abnormal night load; none by default.
    night : numpy.ndarray of bool, optional
        Of those, the points that may carry a night load (not a generator's output:
        PV cannot rise at night); all of ``load`` by default.
    step_s : float
        Length of a step [s], the unit of ``steps`` in :meth:`apply` (for drift).
    local_hour : callable, optional
        Maps an array of steps to their local hour of day [h] (for the night load).
    """

    def __init__(
        self,
        rates: FaultRates,
        n_points: int,
        rng: np.random.Generator,
        temperature: np.ndarray | None = None,
        *,
        load: np.ndarray | None = None,
        step_s: float = 60.0,
        local_hour: Callable[[np.ndarray], np.ndarray] | None = None,
        night: np.ndarray | None = None,
    ) -> None:
        self.rates = rates
        self.rng = rng
        self.temperature = (
            np.zeros(n_points, dtype=bool) if temperature is None else np.asarray(temperature)
        )
        self.load = np.zeros(n_points, dtype=bool) if load is None else np.asarray(load, bool)
        self.night = self.load if night is None else self.load & np.asarray(night, bool)
        self.step_s = float(step_s)
        self.local_hour = local_hour
        self.drift_from = np.full(n_points, -1, dtype=np.int64)  # onset step, -1 when none
        self.drift_sign = np.zeros(n_points)
        self.night_on = np.zeros(n_points, dtype=bool)
        self.offset = np.zeros(n_points)  # what resets removed from each register
        self.last = np.full(n_points, np.nan)  # last value each point reported
        self.stuck_left = np.zeros(n_points, dtype=np.int64)
        self.skew_left = np.zeros(n_points, dtype=np.int64)
        self.skew_ms = np.zeros(n_points, dtype=np.int64)
        r = rates
        self.edges = np.cumsum(
            [
                r.dropout_frac,
                r.spike_frac,
                r.stuck_frac,
                r.skew_frac,
                r.reset_frac,
                r.drift_frac,
                r.night_load_frac,
            ]
        )
        self.active = bool(self.edges[-1] > 0 or r.noise_frac > 0 or r.temp_noise_k > 0)

    def _drift(
        self,
        points: np.ndarray,
        value: np.ndarray,
        fault: np.ndarray,
        steps: np.ndarray,
        starts: np.ndarray,
        log: list[tuple[int, int, int]],
    ) -> None:
        """Apply gain-drift episodes (running on and starting) to ``value`` in place."""
        r = self.rates
        busy = np.flatnonzero(starts.any(axis=1) | (self.drift_from[points] >= 0))
        day_steps = 86_400.0 / self.step_s
        for i in busy:
            p = points[i]
            pending = list(np.flatnonzero(starts[i]))
            for j in range(len(steps)):
                if pending and pending[0] == j:
                    pending.pop(0)
                    if self.drift_from[p] < 0:  # a drifting meter does not start again
                        self.drift_from[p] = steps[j]
                        self.drift_sign[p] = 1.0 if self.rng.random() < 0.5 else -1.0
                        log.append((int(p), int(steps[j]), FAULT_CODES["drift"]))
                if self.drift_from[p] < 0:
                    if not pending:
                        break
                    continue
                elapsed_d = (steps[j] - self.drift_from[p]) / day_steps
                if elapsed_d >= r.drift_days:
                    self.drift_from[p] = -1
                    continue
                value[i, j] *= 1.0 + self.drift_sign[p] * r.drift_frac_per_day * elapsed_d
                if fault[i, j] == FAULT_CODES["none"]:
                    fault[i, j] = FAULT_CODES["drift"]

    def _night(
        self,
        points: np.ndarray,
        value: np.ndarray,
        fault: np.ndarray,
        steps: np.ndarray,
        starts: np.ndarray,
        log: list[tuple[int, int, int]],
    ) -> None:
        """Apply abnormal night loads (running on and starting) to ``value`` in place."""
        r = self.rates
        busy = np.flatnonzero(starts.any(axis=1) | self.night_on[points])
        if not len(busy):
            return
        if self.local_hour is None:
            self.night_on[points] = False
            return
        hour = np.asarray(self.local_hour(steps), dtype=float)
        lo, hi = r.night_start_h, r.night_end_h
        is_night = (hour >= lo) & (hour < hi) if lo < hi else (hour >= lo) | (hour < hi)
        for i in busy:
            p = points[i]
            on = bool(self.night_on[p])
            for j in range(len(steps)):
                if not is_night[j]:
                    on = False
                elif starts[i, j] and not on:
                    on = True
                    log.append((int(p), int(steps[j]), FAULT_CODES["night_load"]))
                if on:
                    value[i, j] *= r.night_load_factor
                    if fault[i, j] == FAULT_CODES["none"]:
                        fault[i, j] = FAULT_CODES["night_load"]
            self.night_on[p] = on

    def apply(
        self,
        points: np.ndarray,
        true: np.ndarray,
        steps: np.ndarray,
        kind: int,
        totals: np.ndarray | None = None,
        rollover: np.ndarray | None = None,
    ) -> Injected:
        """Return what the points report.

        Parameters
        ----------
        points : numpy.ndarray
            Indices of the points (rows of ``true``).
        true : numpy.ndarray
            True values (points × readings): registers without resets for cumulative points.
        steps : numpy.ndarray
            Global step of each reading (its timestamp).
        kind : int
            :data:`~carbontwin.twin.plants.meter.KIND_CODES` of the points.
        totals, rollover : numpy.ndarray, optional
            Cumulative points: the total counted at each reading and the register's wrap.
        """
        value = true.copy()
        shape = true.shape
        fault = np.zeros(shape, dtype=np.int8)
        keep = np.ones(shape, dtype=bool)
        skew = np.zeros(shape, dtype=np.int64)
        log: list[tuple[int, int, int]] = []
        if not true.size:
            return Injected(value, keep, skew, fault, log)
        r = self.rates
        cumulative = kind == KIND_CODES["cumulative"]
        if cumulative and totals is not None and rollover is not None:
            value = register_value(totals, self.offset[points, None], rollover)
        if not self.active:
            self.last[points] = value[:, -1]
            return Injected(value, keep, skew, fault, log)
        if kind == KIND_CODES["instantaneous"] and (r.noise_frac > 0 or r.temp_noise_k > 0):
            z = self.rng.standard_normal(shape)
            temp = self.temperature[points, None]
            value = np.where(temp, value + r.temp_noise_k * z, value * (1 + r.noise_frac * z))
        if self.edges[-1] > 0:
            u = self.rng.random(shape)
            code = np.searchsorted(self.edges, u, side="right")  # 0 dropout … 7 none
            if not cumulative:
                code[code == 4] = _NONE_BIN
            if cumulative:
                code[(code == 5) | (code == 6)] = _NONE_BIN
            else:
                code[(code == 5) & ~self.load[points, None]] = _NONE_BIN
                code[(code == 6) & ~self.night[points, None]] = _NONE_BIN
            drop, spike, stuck, skewed, reset, drifting, night = (code == i for i in range(7))
        else:
            drop = spike = stuck = skewed = reset = np.zeros(shape, dtype=bool)
            drifting = night = drop
        if not cumulative:
            self._drift(points, value, fault, steps, drifting, log)
            self._night(points, value, fault, steps, night, log)
        # Resets: the register restarts from 0 at the reading and counts on from there.
        if cumulative and totals is not None and rollover is not None:
            for i, j in zip(*np.nonzero(reset), strict=True):
                p = points[i]
                self.offset[p] = totals[i, j]
                value[i, j:] = register_value(totals[i, j:], self.offset[p], rollover[i])
                fault[i, j] = FAULT_CODES["reset"]
                log.append((int(p), int(steps[j]), FAULT_CODES["reset"]))
        value[spike] *= r.spike_factor
        fault[spike] = FAULT_CODES["spike"]
        for i, j in zip(*np.nonzero(spike), strict=True):
            log.append((int(points[i]), int(steps[j]), FAULT_CODES["spike"]))
        # Stuck episodes: those running on from the last chunk, then those starting here.
        n = shape[1]
        busy = np.flatnonzero(stuck.any(axis=1) | (self.stuck_left[points] > 0))
        for i in busy:
            p = points[i]
            starts = np.flatnonzero(stuck[i])
            left = int(self.stuck_left[p])
            if not left and not len(starts):
                continue
            held = self.last[p]
            j = 0
            pending = list(starts)
            while j < n:
                if pending and pending[0] == j:
                    pending.pop(0)
                    log.append((int(p), int(steps[j]), FAULT_CODES["stuck"]))
                    held = value[i, j - 1] if j > 0 else self.last[p]
                    left = r.stuck_readings
                if left > 0:
                    if np.isfinite(held):
                        value[i, j] = held
                    fault[i, j] = FAULT_CODES["stuck"]
                    left -= 1
                j += 1
                if not left and not pending:
                    break
            self.stuck_left[p] = left
        # Clock skew episodes: timestamps off by a fixed offset while they last.
        busy = np.flatnonzero(skewed.any(axis=1) | (self.skew_left[points] > 0))
        for i in busy:
            p = points[i]
            starts = np.flatnonzero(skewed[i])
            left = int(self.skew_left[p])
            if not left and not len(starts):
                continue
            pending = list(starts)
            for j in range(n):
                if pending and pending[0] == j:
                    pending.pop(0)
                    log.append((int(p), int(steps[j]), FAULT_CODES["skew"]))
                    left = r.skew_readings
                    self.skew_ms[p] = round(self.rng.uniform(-1.0, 1.0) * r.skew_s * 1000)
                if left > 0:
                    skew[i, j] = self.skew_ms[p]
                    if fault[i, j] == FAULT_CODES["none"]:
                        fault[i, j] = FAULT_CODES["skew"]
                    left -= 1
                elif not pending:
                    break
            self.skew_left[p] = left
        keep[drop] = False
        for i, j in zip(*np.nonzero(drop), strict=True):
            log.append((int(points[i]), int(steps[j]), FAULT_CODES["dropout"]))
        self.last[points] = value[:, -1]
        return Injected(value, keep, skew, fault, log)
