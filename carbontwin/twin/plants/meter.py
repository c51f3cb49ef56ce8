"""Meters: what each metering point reports, from the simulated signals.

Every point bound to a signal keeps a running integral of it in the point's unit: the
energy (or mass, or volume) for a flow, the time integral for an instantaneous value.
From it, at each point's ``interval_s``:

- a ``cumulative`` point reports its register at the instant — the integral plus its
  initial value, wrapping at ``rollover``;
- an ``interval`` point reports the amount of the interval, labelled by its start;
- an ``instantaneous`` point reports the value over the step that starts at the instant.

The 15-min history of every point (the amount, or the mean of an instantaneous value) is
the difference of the same integral at quarter-hour boundaries, so a register always
equals the integral of the power that drove it.

Examples
--------
>>> register_value(np.array([99_999_990.0, 100_000_005.0]), 0.0, 99_999_999.0).tolist()
[99999990.0, 6.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KIND_CODES", "MeterGroup", "Meters", "register_value"]

#: Point kinds as small integers.
KIND_CODES = {"interval": 0, "cumulative": 1, "instantaneous": 2}


def register_value(
    total: np.ndarray, offset: np.ndarray | float, rollover: np.ndarray | float
) -> np.ndarray:
    """Register of a cumulative meter: the total since installation less resets, wrapped.

    Parameters
    ----------
    total : numpy.ndarray
        Amount counted since the register was installed, with its initial value [unit].
    offset : numpy.ndarray or float
        What resets removed [unit].
    rollover : numpy.ndarray or float
        Value at which the register wraps to 0 (``inf`` if it never does) [unit].

    Returns
    -------
    numpy.ndarray
        ``(total - offset) mod rollover`` [unit].
    """
    value = np.asarray(total, dtype=float) - offset
    return np.where(np.isfinite(rollover), np.mod(value, rollover), value)


@dataclass
class MeterGroup:
    """Points with one kind and one interval: they report at the same instants."""

    kind: int
    every: int  # steps between readings
    points: np.ndarray  # indices into Meters' arrays


class Meters:
    """The metering points of a run and their integrals.

    Parameters
    ----------
    rows : numpy.ndarray
        Row of each point's signal in the simulator's value matrix.
    scale : numpy.ndarray
        Per-step factor from the signal to the point: ``Δt × unit factor`` for amounts,
        the unit factor for instantaneous values.
    kinds : numpy.ndarray
        :data:`KIND_CODES` of each point.
    every : numpy.ndarray
        Steps between readings of each point.
    rollover : numpy.ndarray
        Register wrap of each point (``inf`` when none) [point unit].
    initial : numpy.ndarray
        Register value at the start (cumulative points) [point unit].
    history_every : int
        Steps in the history interval (15 min).
    """

    def __init__(
        self,
        rows: np.ndarray,
        scale: np.ndarray,
        kinds: np.ndarray,
        every: np.ndarray,
        rollover: np.ndarray,
        initial: np.ndarray,
        history_every: int,
    ) -> None:
        self.rows = np.asarray(rows, dtype=np.intp)
        self.scale = np.asarray(scale, dtype=float)
        self.kinds = np.asarray(kinds, dtype=np.int8)
        self.every = np.asarray(every, dtype=np.int64)
        self.rollover = np.asarray(rollover, dtype=float)
        self.initial = np.asarray(initial, dtype=float)
        self.history_every = int(history_every)
        n = len(self.rows)
        #: Integral at the last processed step boundary [point unit, or unit × steps].
        self.integral = np.zeros(n)
        #: Integral at each point's last reading boundary (interval points difference it).
        self.at_last_reading = np.zeros(n)
        #: Integral at the last history boundary.
        self.at_last_history = np.zeros(n)
        #: What resets removed from each register [point unit].
        self.offset = np.zeros(n)
        self.groups = [
            MeterGroup(int(k), int(m), np.flatnonzero((self.kinds == k) & (self.every == m)))
            for k in sorted(set(self.kinds.tolist()))
            for m in sorted(set(self.every[self.kinds == k].tolist()))
        ]

    def __len__(self) -> int:
        return len(self.rows)

    def integrate(self, values: np.ndarray) -> np.ndarray:
        """Return the integral at the chunk's step boundaries, and advance it.

        ``values`` is the simulator's matrix (signals × steps) of the chunk; the result
        (points × steps + 1) starts with the integral before the chunk's first step.
        """
        per_step = values[self.rows] * self.scale[:, None]
        out = np.empty((len(self.rows), per_step.shape[1] + 1))
        out[:, 0] = self.integral
        np.cumsum(per_step, axis=1, out=out[:, 1:])
        out[:, 1:] += self.integral[:, None]
        self.integral = out[:, -1].copy()
        return out

    def readings(
        self, group: MeterGroup, bounds: np.ndarray, values: np.ndarray, first_step: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the true readings of a group in a chunk.

        Parameters
        ----------
        group : MeterGroup
            The points.
        bounds : numpy.ndarray
            :meth:`integrate`'s result for the chunk.
        values : numpy.ndarray
            The chunk's signal matrix.
        first_step : int
            Global index of the chunk's first step.

        Returns
        -------
        label_steps : numpy.ndarray
            Global step of each reading's timestamp (instant, or interval start).
        values : numpy.ndarray
            (points × readings) true values [point unit]; registers before resets.
        totals : numpy.ndarray
            Cumulative points: the total counted at each reading (for resets), else empty.
        """
        n = bounds.shape[1] - 1
        m, pts = group.every, group.points
        if group.kind == KIND_CODES["interval"]:
            first = ((first_step // m) + 1) * m  # interval ends inside (first, first + n]
            ends = np.arange(first, first_step + n + 1, m)
            at = bounds[pts][:, ends - first_step]
            prev = np.concatenate((self.at_last_reading[pts, None], at[:, :-1]), axis=1)
            if len(ends):
                self.at_last_reading[pts] = at[:, -1]
            return ends - m, at - prev, np.empty((0, 0))
        first = -(-first_step // m) * m  # instants inside [first, first + n)
        instants = np.arange(first, first_step + n, m)
        cols = instants - first_step
        if group.kind == KIND_CODES["cumulative"]:
            total = bounds[pts][:, cols] + self.initial[pts, None]
            return instants, register_value(total, 0.0, self.rollover[pts, None]), total
        rows = self.rows[pts]
        return instants, values[rows][:, cols] * self.scale[pts, None], np.empty((0, 0))

    def history(self, bounds: np.ndarray, first_step: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the history intervals that end in the chunk.

        Their start steps, and the (points × intervals) amounts [point unit] (means, for
        instantaneous points).
        """
        n = bounds.shape[1] - 1
        h = self.history_every
        first = ((first_step // h) + 1) * h
        ends = np.arange(first, first_step + n + 1, h)
        at = bounds[:, ends - first_step]
        prev = np.concatenate((self.at_last_history[:, None], at[:, :-1]), axis=1)
        if len(ends):
            self.at_last_history = at[:, -1].copy()
        out = at - prev
        inst = self.kinds == KIND_CODES["instantaneous"]
        out[inst] /= h
        return ends - h, out
