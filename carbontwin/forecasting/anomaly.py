"""Anomaly detection on metering data: data quality, abnormal load, drift and meter mismatch.

Each detector takes readings (``point, ts, value``; ``ts`` timezone-aware) and returns the
readings it flags as a frame of :data:`ANOMALY_COLUMNS`: the point, the timestamp, the
``kind``, a ``severity`` (``info``, ``warning``, ``critical``), a ``score`` (how many
robust standard deviations, or readings, the evidence amounts to) and an explanation in
English and Chinese.

Data quality, on one point's series:

- :func:`detect_spikes` — a reading far from both neighbours, which agree with each other
  (leave-one-out residual, robust z-score against the MAD of all such residuals);
- :func:`detect_stuck` — a run of identical values longer than ``min_run`` at a value the
  point does not rest at (a resting value recurs in several runs, e.g. 0 at night); an
  often idle register only when it then catches up;
- :func:`detect_gaps` — expected timestamps missing on the point's reporting grid;
- :func:`detect_resets` — a cumulative register that decreases (not a spike, not a wrap);
- :func:`detect_clock` — a reading off the point's reporting grid (clock skew).

Behaviour, against what is expected:

- :class:`ProfileBaseline` — a per-point profile by 15-min slot of the local week (or of
  the day type), robust medians, with ``fit(history)`` / ``predict(frame)``; any
  :class:`Forecaster` with the same two methods can stand in for it;
- :class:`ResidualDetector` — forecast residuals against an adaptive scale (the rolling
  median absolute residual of the last day, never below the history's at that hour) and
  thresholds calibrated on the history; a sustained excess at night is a ``night_load``,
  elsewhere a ``load`` anomaly; a slow accumulation of residuals (CUSUM) is a ``drift``;
- :class:`PairDriftDetector` — drift of a meter against a redundant meter of the same
  asset (an energy register and a power meter of one signal): CUSUM on the log ratio of
  their amounts per window; an abrupt, sustained break of the ratio at night is a
  ``night_load`` on the meter that reads more (the other meter is its process context);
- :class:`MahalanobisDetector` — several points of one asset, standardised log levels per
  window, Mahalanobis distance against the history's covariance (``asset_mismatch``).

:func:`detect_all` runs them all on stored data; :class:`OnlineDetector` runs the
data-quality and residual detectors on reading batches as they arrive, with a short tail
and a few numbers of state per point. :func:`evaluate` matches detections to labelled
fault episodes (the twin's ``fault`` column) and returns precision and recall per kind.

The explanations are built here from two templates per kind (English, Chinese) until the
locale files take them over.

The compute here does no I/O and imports only core and the scientific stack.

Examples
--------
>>> ts = pd.date_range("2025-07-01", periods=60, freq="min", tz="UTC")
>>> v = 100 + np.sin(np.arange(60) / 5)
>>> v[30] = 1000.0
>>> frame = pd.DataFrame({"point": "P", "ts": ts, "value": v})
>>> detect_spikes(frame)[["kind", "severity"]].values.tolist()
[['spike', 'critical']]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from carbontwin.core.park import Park

__all__ = [
    "ANOMALY_COLUMNS",
    "KIND_TO_FAULT",
    "Forecaster",
    "MahalanobisDetector",
    "OnlineDetector",
    "PairDriftDetector",
    "PointInfo",
    "ProfileBaseline",
    "ResidualDetector",
    "StuckProfile",
    "detect_all",
    "detect_clock",
    "detect_gaps",
    "detect_resets",
    "detect_spikes",
    "detect_stuck",
    "episodes",
    "evaluate",
    "meter_pairs",
    "point_info",
    "stuck_profile",
]

#: Columns of every detector's result.
ANOMALY_COLUMNS = [
    "point",
    "ts",
    "kind",
    "severity",
    "score",
    "value",
    "explanation_en",
    "explanation_zh",
]

#: The twin's fault label each anomaly kind detects (``None``: any fault, or none).
KIND_TO_FAULT: dict[str, str | None] = {
    "spike": "spike",
    "stuck": "stuck",
    "gap": "dropout",
    "reset": "reset",
    "clock": "skew",
    "drift": "drift",
    "night_load": "night_load",
    "load": None,
    "asset_mismatch": None,
}

_TEXT = {
    "spike": (
        "value {value:.4g} is {score:.1f} robust SDs from its neighbours",
        "读数 {value:.4g} 偏离相邻读数 {score:.1f} 个稳健标准差（尖峰）",
    ),
    "stuck": (
        "the same value {value:.4g} repeats {score:.0f} readings",
        "读数 {value:.4g} 连续 {score:.0f} 次不变（卡死）",
    ),
    "gap": (
        "{score:.0f} expected readings missing before this one",
        "此前缺失 {score:.0f} 个应到读数（数据中断）",
    ),
    "reset": (
        "register fell to {value:.4g} ({score:.1f} % of the previous value)",
        "累计寄存器回落至 {value:.4g}（为前值的 {score:.1f}%，复位）",
    ),
    "clock": (
        "timestamp {score:.0f} s off the reporting grid",
        "时间戳偏离采集周期 {score:.0f} 秒（时钟偏差）",
    ),
    "drift": (
        "readings drift away from the expected ({score:.1f} accumulated SDs)",
        "读数逐渐偏离预期（累计 {score:.1f} 个标准差，漂移）",
    ),
    "night_load": (
        "night load {value:.4g} is {score:.1f} SDs above the expected",
        "夜间负荷 {value:.4g} 高于预期 {score:.1f} 个标准差（夜间异常负荷）",
    ),
    "load": (
        "load {value:.4g} is {score:.1f} SDs from the expected",
        "负荷 {value:.4g} 偏离预期 {score:.1f} 个标准差（负荷异常）",
    ),
    "asset_mismatch": (
        "the asset's meters disagree (Mahalanobis distance {score:.1f})",
        "同一设备的多个计量点读数不一致（马氏距离 {score:.1f}）",
    ),
}

_MAD = 1.4826  # MAD → standard deviation of a normal distribution


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "point": pd.Series(dtype=object),
            "ts": pd.to_datetime(pd.Series([], dtype="int64"), utc=True),
            "kind": pd.Series(dtype=object),
            "severity": pd.Series(dtype=object),
            "score": pd.Series(dtype=float),
            "value": pd.Series(dtype=float),
            "explanation_en": pd.Series(dtype=object),
            "explanation_zh": pd.Series(dtype=object),
        }
    )


def _frame(
    point: str | np.ndarray,
    ts: np.ndarray,
    kind: str,
    score: np.ndarray,
    value: np.ndarray,
    critical: float | np.ndarray,
) -> pd.DataFrame | None:
    """Build the anomaly frame of one kind (``severity`` critical from ``critical`` on).

    ``None`` when nothing is flagged (cheaper than an empty frame in the hot path).
    """
    if not len(ts):
        return None
    score = np.asarray(score, dtype=float)
    value = np.asarray(value, dtype=float)
    en, zh = _TEXT[kind]
    sev = np.where(score >= critical, "critical", "warning")
    return pd.DataFrame(
        {
            "point": point if not isinstance(point, str) else [point] * len(ts),
            "ts": pd.to_datetime(np.asarray(ts, dtype="int64"), utc=True),
            "kind": kind,
            "severity": sev,
            "score": score,
            "value": value,
            "explanation_en": [
                en.format(value=v, score=s) for v, s in zip(value, score, strict=True)
            ],
            "explanation_zh": [
                zh.format(value=v, score=s) for v, s in zip(value, score, strict=True)
            ],
        }
    )


def _concat(frames: Iterable[pd.DataFrame | None]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return _empty()
    return pd.concat(frames, ignore_index=True).sort_values(["ts", "point"], ignore_index=True)


def _series(frame: pd.DataFrame) -> Iterable[tuple[str, np.ndarray, np.ndarray]]:
    """Yield ``(point, ts [ns], value)`` of each point, oldest first."""
    if not len(frame):
        return
    f = frame[["point", "ts", "value"]]
    ts_all = f["ts"].to_numpy(dtype="datetime64[ns]").view("int64")
    codes, names = pd.factorize(f["point"].astype(str))
    order = np.lexsort((ts_all, codes))
    codes, ts_all = codes[order], ts_all[order]
    vals = f["value"].to_numpy(dtype=float)[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    for idx in np.split(np.arange(len(codes)), bounds):
        if len(idx):
            yield str(names[codes[idx[0]]]), ts_all[idx], vals[idx]


# --------------------------------------------------------------------------- point facts
@dataclass(frozen=True)
class PointInfo:
    """What the detectors need to know about a point.

    Parameters
    ----------
    interval_s : float
        Reporting interval [s].
    kind : str
        ``interval``, ``cumulative`` or ``instantaneous``.
    rollover : float, optional
        Value at which a cumulative register wraps [point unit].
    load : bool
        Whether it measures an energy or material flow (load detectors apply).
    """

    interval_s: float = 900.0
    kind: str = "instantaneous"
    rollover: float | None = None
    load: bool = True


def point_info(park: Park) -> dict[str, PointInfo]:
    """Return the :class:`PointInfo` of each of the park's points."""
    return {
        p.id: PointInfo(
            float(p.interval_s),
            p.kind,
            p.rollover,
            not str(p.carrier).startswith("other:"),
        )
        for p in park.points
    }


def meter_pairs(park: Park) -> list[tuple[str, str, str]]:
    """Return ``(asset, energy point, power point)`` of redundant meters of one signal.

    The energy point is a cumulative register or an interval meter; the power point an
    instantaneous meter of the same signal of the same asset (a grid connection's
    ``power_kw`` pairs with its ``import`` and ``supply``). Pairs whose ratio is not stable
    are dropped when :class:`PairDriftDetector` is fitted.
    """
    kinds = {p.id: p.kind for p in park.points}
    out = []
    for a in park.assets:
        by_signal: dict[str, list[str]] = {}
        for pid, signal in (getattr(a, "meters", None) or {}).items():
            by_signal.setdefault(signal, []).append(pid)
        # A grid connection's power meter pairs with its import and supply registers.
        grid = ("import", "supply", "power_kw")
        groups = [pids for sig, pids in by_signal.items() if sig not in grid]
        groups.append([p for sig in grid for p in by_signal.get(sig, [])])
        for pids in groups:
            energy = [p for p in pids if kinds.get(p) in ("cumulative", "interval")]
            power = [p for p in pids if kinds.get(p) == "instantaneous"]
            out.extend((a.id, e, w) for e in energy for w in power)
    return out


# --------------------------------------------------------------------------- data quality
def _spikes_1d(
    v: np.ndarray, z_warning: float, rel_floor: float, min_rel: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Return indices and z-scores of isolated spikes of one series."""
    if len(v) < 3:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    prev, mid, nxt = v[:-2], v[1:-1], v[2:]
    r = mid - 0.5 * (prev + nxt)
    back = np.abs(nxt - prev)
    scale = _MAD * np.median(np.abs(r - np.median(r)))
    level = np.quantile(np.abs(v), 0.9)
    scale = max(scale, rel_floor * level, 1e-9)
    z = np.abs(r) / scale
    near = np.maximum(0.5 * np.abs(prev + nxt), rel_floor * level)
    hit = (z >= z_warning) & (back < 0.25 * np.abs(r)) & (np.abs(r) >= min_rel * near)
    idx = np.flatnonzero(hit)
    return idx + 1, z[idx]


def detect_spikes(
    readings: pd.DataFrame,
    *,
    z_warning: float = 8.0,
    rel_floor: float = 0.01,
    min_rel: float = 0.5,
) -> pd.DataFrame:
    r"""Flag readings far from both neighbours while the neighbours agree.

    The residual of reading :math:`i` is :math:`r_i = v_i - (v_{i-1} + v_{i+1}) / 2`; its
    robust z-score is :math:`|r_i| / s` with :math:`s = 1.4826\,\mathrm{MAD}(r)`, never
    below ``rel_floor`` of the 90th percentile of :math:`|v|`. A spike needs
    :math:`z \ge` ``z_warning`` and neighbours closer to each other than a quarter of
    :math:`|r_i|` (a step is not a spike) and :math:`|r_i|` at least ``min_rel`` of the
    neighbours' level (a one-reading transient of a few percent is not a meter spike).
    Works on registers too (a spike leaves the register's trend). Critical from
    ``5 * z_warning``.

    Parameters
    ----------
    readings : pandas.DataFrame
        ``point, ts, value``.
    z_warning : float
        Smallest robust z-score flagged [1].
    rel_floor : float
        Floor of the scale relative to the point's level [frac].
    min_rel : float
        Smallest departure from the neighbours' level flagged [frac].
    """
    out = []
    for pid, ts, v in _series(readings):
        idx, z = _spikes_1d(v, z_warning, rel_floor, min_rel)
        out.append(_frame(pid, ts[idx], "spike", z, v[idx], 5 * z_warning))
    return _concat(out)


def _runs(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return start index and length of each run of identical values."""
    if not len(v):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(v[1:] != v[:-1]) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [len(v)])))
    return starts, lengths


@dataclass(frozen=True)
class StuckProfile:
    """What is normal about repeated values of a point.

    Parameters
    ----------
    rest : frozenset of float
        Values the point rests at (seen in three runs or in 5 % of its readings).
    idle : bool
        A register that often stands still (2 % of its increments are 0): a run there is
        only stuck when the register then catches up.
    increment : float
        95th percentile of a register's positive increments [point unit].
    """

    rest: frozenset[float] = frozenset()
    idle: bool = False
    increment: float = 0.0


def stuck_profile(
    v: np.ndarray, cumulative: bool = False, *, min_runs: int = 3, min_frac: float = 0.05
) -> StuckProfile:
    """Return the :class:`StuckProfile` of a point's values (oldest first)."""
    v = np.asarray(v, dtype=float)
    if cumulative:
        d = np.diff(v)
        pos = d[d > 0]
        idle = bool(len(d) and (d == 0).mean() >= 0.02)
        return StuckProfile(frozenset(), idle, float(np.quantile(pos, 0.95)) if len(pos) else 0.0)
    starts, lengths = _runs(v)
    if not len(starts):
        return StuckProfile()
    s = pd.DataFrame({"v": v[starts], "n": lengths}).groupby("v")["n"].agg(["size", "sum"])
    rest = s[(s["size"] >= min_runs) | (s["sum"] >= min_frac * len(v))]
    return StuckProfile(frozenset(float(x) for x in rest.index))


def _stuck_1d(v: np.ndarray, min_run: int, prof: StuckProfile) -> tuple[np.ndarray, np.ndarray]:
    starts, lengths = _runs(v)
    idx, score = [], []
    for s, n in zip(starts, lengths, strict=True):
        if n < min_run or float(v[s]) in prof.rest:
            continue
        if prof.idle:
            # The register catches up: one increment of several, then a usual one.
            end = s + n
            if end + 1 >= len(v):
                continue
            jump, after = v[end] - v[end - 1], v[end + 1] - v[end]
            if jump < 3 * max(prof.increment, after, 1e-12):
                continue
        idx.append(np.arange(s + 1, s + n))
        score.append(np.full(n - 1, float(n)))
    if not idx:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(idx), np.concatenate(score)


def detect_stuck(
    readings: pd.DataFrame,
    info: Mapping[str, PointInfo] | None = None,
    *,
    min_run: int = 4,
    profiles: Mapping[str, StuckProfile] | None = None,
) -> pd.DataFrame:
    """Flag runs of at least ``min_run`` identical values that are not normal for the point.

    A point *rests* at a value it shows in at least three separate runs or in 5 % of its
    readings (0 at night, a constant production rate): such runs are normal. A register
    that often stands still (an idle battery's charge register) is stuck only when it
    then catches up: an increment over three times its 95th-percentile increment and the
    next one. The first reading of a run is
    the genuine one; the repeats are flagged, with the run length as the score.
    Critical from ``4 * min_run``.

    Parameters
    ----------
    readings : pandas.DataFrame
        ``point, ts, value``.
    info : mapping of str to PointInfo, optional
        Which points are registers.
    min_run : int
        Shortest run flagged [readings].
    profiles : mapping of str to StuckProfile, optional
        What is normal for each point (learnt from history); from the data when omitted.
    """
    out = []
    info = info or {}
    for pid, ts, v in _series(readings):
        prof = (profiles or {}).get(pid)
        if prof is None:
            prof = stuck_profile(v, info.get(pid, PointInfo()).kind == "cumulative")
        idx, score = _stuck_1d(v, min_run, prof)
        out.append(_frame(pid, ts[idx], "stuck", score, v[idx], 4 * min_run))
    return _concat(out)


def _grid_phase(ts: np.ndarray, step_ns: int) -> int:
    ph = ts % step_ns
    vals, counts = np.unique(ph, return_counts=True)
    return int(vals[np.argmax(counts)])


def _gaps_1d(
    ts: np.ndarray, step_ns: int, tol_ns: int, phase: int
) -> tuple[np.ndarray, np.ndarray]:
    off = (ts - phase) % step_ns
    off = np.minimum(off, step_ns - off)
    on = np.flatnonzero(off <= tol_ns)
    if len(on) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    expected = np.rint((ts[on[1:]] - ts[on[:-1]]) / step_ns).astype(np.int64) - 1
    present = on[1:] - on[:-1] - 1
    missing = expected - present
    k = np.flatnonzero(missing >= 1)
    return on[1:][k], missing[k].astype(float)


def detect_gaps(
    readings: pd.DataFrame, info: Mapping[str, PointInfo], *, tol_frac: float = 0.05
) -> pd.DataFrame:
    """Flag readings that follow missing expected readings (drop-outs).

    Between two readings on the point's reporting grid (within ``tol_frac`` of the
    interval), the expected readings are those of the grid; readings off the grid (clock
    skew) count as present. The reading after a gap is flagged with the number missing as
    its score. Critical from 4 missing readings.

    Parameters
    ----------
    readings : pandas.DataFrame
        ``point, ts, value``.
    info : mapping of str to PointInfo
        Reporting interval of each point.
    tol_frac : float
        Tolerance of a timestamp on the grid [frac of the interval].
    """
    out = []
    for pid, ts, v in _series(readings):
        if pid not in info:
            continue
        step = int(info[pid].interval_s * 1e9)
        idx, score = _gaps_1d(ts, step, int(tol_frac * step), _grid_phase(ts, step))
        out.append(_frame(pid, ts[idx], "gap", score, v[idx], 4))
    return _concat(out)


def detect_clock(
    readings: pd.DataFrame, info: Mapping[str, PointInfo], *, tol_frac: float = 0.05
) -> pd.DataFrame:
    """Flag readings off the point's reporting grid by more than ``tol_frac`` of the interval.

    The grid's phase is the most common ``ts mod interval``. Score: the offset [s];
    critical from half an interval.
    """
    out = []
    for pid, ts, v in _series(readings):
        if pid not in info:
            continue
        step = int(info[pid].interval_s * 1e9)
        phase = _grid_phase(ts, step)
        off = (ts - phase) % step
        off = np.where(off > step // 2, off - step, off)
        idx = np.flatnonzero(np.abs(off) > tol_frac * step)
        score = np.abs(off[idx]) / 1e9
        out.append(_frame(pid, ts[idx], "clock", score, v[idx], info[pid].interval_s / 2))
    return _concat(out)


def _resets_1d(v: np.ndarray, rollover: float | None) -> tuple[np.ndarray, np.ndarray]:
    if len(v) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    d = np.diff(v)
    dec = np.flatnonzero(d < 0) + 1
    keep, score = [], []
    for j in dec:
        before, now = v[j - 1], v[j]
        # The previous reading was a spike when the one before it is close to this one.
        if j >= 2 and abs(now - v[j - 2]) < 0.25 * abs(before - now):
            continue
        # A wrap: close to the rollover before, small after.
        if rollover and before > 0.9 * rollover and now < 0.1 * rollover:
            continue
        keep.append(j)
        score.append(100.0 * now / before if before else 0.0)
    return np.asarray(keep, dtype=np.int64), np.asarray(score)


def detect_resets(readings: pd.DataFrame, info: Mapping[str, PointInfo]) -> pd.DataFrame:
    """Flag cumulative registers that decrease, other than after a spike or at their wrap.

    Score: the new value as a percentage of the previous one (critical below 50 %).
    """
    out = []
    for pid, ts, v in _series(readings):
        pi = info.get(pid)
        if pi is None or pi.kind != "cumulative":
            continue
        idx, score = _resets_1d(v, pi.rollover)
        # Severity rises as the score falls: flag with the inverse for the threshold.
        f = _frame(pid, ts[idx], "reset", score, v[idx], np.inf)
        if f is not None:
            f["severity"] = np.where(f["score"] < 50, "critical", "warning")
        out.append(f)
    return _concat(out)


# --------------------------------------------------------------------------- behaviour
class Forecaster(Protocol):
    """What :class:`ResidualDetector` needs of a forecaster."""

    def fit(self, history: pd.DataFrame) -> Forecaster:
        """Learn from ``point, ts, value`` readings."""
        ...

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the expected value of each row of ``point, ts`` [point unit]."""
        ...


def _local_slots(
    ts: pd.Series | pd.DatetimeIndex, timezone: str, *, weekday: bool = False
) -> tuple[np.ndarray, ...]:
    """Return the local 15-min slot of the day, weekend flag and hour [h] (and weekday)."""
    t = pd.DatetimeIndex(ts)
    if t.tz is None:
        msg = "ts must be timezone-aware; localise it, e.g. ts.dt.tz_localize('UTC')"
        raise ValueError(msg)
    local = t.tz_convert(timezone)
    hour = np.asarray(local.hour + local.minute / 60.0)
    slot = np.asarray(local.hour * 4 + local.minute // 15)
    dow = np.asarray(local.day_of_week)
    if weekday:
        return slot, dow >= 5, hour, dow
    return slot, dow >= 5, hour


@dataclass
class ProfileBaseline:
    """Expected value by point and 15-min slot of the local week (or of the day type).

    The robust median of the history's readings in each cell: a slot of the week
    (``by="week"``, 672 cells; use three or more weeks of history) or of a weekday or
    weekend day (``by="daytype"``, 192 cells). An empty cell falls back to the day type's
    slot, then to the slot's median over all days.

    Parameters
    ----------
    timezone : str
        The park's zone (the profile is of local time).
    by : str
        ``"week"`` or ``"daytype"``.
    """

    timezone: str = "Asia/Shanghai"
    by: str = "week"
    table: dict[str, np.ndarray] = field(default_factory=dict)

    def _cells(self, ts: pd.Series | pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        slot, weekend, _, weekday = _local_slots(ts, self.timezone, weekday=True)
        return slot + 96 * weekday, slot + 96 * weekend, slot

    def fit(self, history: pd.DataFrame) -> ProfileBaseline:
        """Learn the profile of each point from ``point, ts, value`` readings."""
        if self.by not in ("week", "daytype"):
            msg = f"by(={self.by!r}) must be 'week' or 'daytype'"
            raise ValueError(msg)
        week, daytype, slot = self._cells(history["ts"])
        df = pd.DataFrame(
            {
                "point": history["point"].astype(str).to_numpy(),
                "week": week,
                "daytype": daytype,
                "slot": slot,
                "value": history["value"].to_numpy(dtype=float),
            }
        )
        self.table = {}
        for pid, g in df.groupby("point"):
            prof = np.full(96, np.nan)
            s = g.groupby("slot")["value"].median()
            prof[s.index.to_numpy()] = s.to_numpy()
            prof = pd.Series(prof).ffill().bfill().to_numpy()
            t = np.full(192, np.nan)
            c = g.groupby("daytype")["value"].median()
            t[c.index.to_numpy()] = c.to_numpy()
            t = np.where(np.isnan(t), np.tile(prof, 2), t)
            if self.by == "week":
                w = np.full(672, np.nan)
                c = g.groupby("week")["value"].median()
                w[c.index.to_numpy()] = c.to_numpy()
                fallback = np.concatenate([t[:96]] * 5 + [t[96:]] * 2)
                t = np.where(np.isnan(w), fallback, w)
            self.table[str(pid)] = t
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the expected value of each row of ``point, ts`` (NaN for unknown points)."""
        week, daytype, _ = self._cells(frame["ts"])
        cell = week if self.by == "week" else daytype
        out = np.full(len(frame), np.nan)
        pts = frame["point"].astype(str).to_numpy()
        for pid in np.unique(pts):
            if pid in self.table:
                m = pts == pid
                out[m] = self.table[pid][cell[m]]
        return out


@dataclass
class ResidualDetector:
    r"""Abnormal load and drift from forecast residuals with adaptive thresholds.

    The residual :math:`e = v - \hat v` of each reading (``forecaster``'s prediction) is
    scaled by :math:`s_t = \max(s_h, 1.4826\, \mathrm{median}_{\text{last day}} |e|)`,
    where :math:`s_h` is the robust scale (1.4826 MAD) of the history's residuals in the
    reading's local hour, never below ``rel_floor`` of the point's level: the scale adapts
    to a noisier day and never falls below what the history shows at that hour.

    - **Load**: a reading is hot when the rolling median over ``sustain_s`` of
      :math:`z = e / s_t` reaches the point's threshold and the rolling median of the
      relative excess :math:`e / \max(|\hat v|, 0.05\,\mathrm{level})` reaches
      ``min_rel``; the hot window's readings that pass both tests themselves are flagged,
      as ``night_load`` inside the night hours when upward, as ``load`` otherwise. The
      threshold of a point is ``z_load`` raised to ``margin`` times the ``quantile`` of
      the same statistic in its history, separately by night and by day (optionally
      a second window ``long_s`` with its own threshold).
    - **Drift**: a two-sided CUSUM of :math:`z_0 = \mathrm{clip}(e / s_h, \pm` ``clip``
      :math:`)` with allowance ``k`` alarms when it exceeds the point's ``h`` (``h`` raised
      to ``margin`` times the ``quantile`` of the CUSUM over the history) and restarts; load
      anomalies restart it too. Points in ``no_drift`` (judged against a redundant meter)
      are left out.

    Fit it on a normal period (three weeks or more for the week profile): faults in the
    history raise the thresholds.

    Parameters
    ----------
    info : mapping of str to PointInfo
        Points: the detector works on the ``load`` points that are not cumulative.
    forecaster : Forecaster, optional
        Has ``fit(history)`` and ``predict(frame)``; :class:`ProfileBaseline` by default.
    timezone : str
        The park's zone (night hours are local).
    night_h : tuple of float
        Local start and end hour of the night [h] (may wrap midnight).
    z_load : float
        Smallest load threshold [robust SDs].
    min_rel : float
        Smallest relative excess of a load anomaly [frac].
    sustain_s, long_s : float
        Windows of the load test [s]; ``long_s`` off by default.
    k, h : float
        CUSUM allowance and smallest alarm level [robust SDs].
    rel_floor : float
        Floor of the residual scale relative to the point's level [frac].
    clip : float
        Clip of each CUSUM term [robust SDs].
    margin, quantile : float
        Thresholds are ``margin`` times this quantile of the history [1].
    """

    info: Mapping[str, PointInfo]
    forecaster: Forecaster | None = None
    timezone: str = "Asia/Shanghai"
    night_h: tuple[float, float] = (22.0, 6.0)
    z_load: float = 4.0
    min_rel: float = 0.2
    sustain_s: float = 900.0
    long_s: float | None = None
    k: float = 1.0
    h: float = 20.0
    rel_floor: float = 0.005
    clip: float = 4.0
    margin: float = 1.5
    quantile: float = 0.999
    scale0: dict[str, float] = field(default_factory=dict)
    scale_h: dict[str, np.ndarray] = field(default_factory=dict)
    level: dict[str, float] = field(default_factory=dict)
    z_point: dict[str, np.ndarray] = field(default_factory=dict)
    z_long: dict[str, np.ndarray] = field(default_factory=dict)
    h_point: dict[str, float] = field(default_factory=dict)
    no_drift: set[str] = field(default_factory=set)

    def _points(self, frame: pd.DataFrame) -> pd.DataFrame:
        ok = {p for p, i in self.info.items() if i.load and i.kind != "cumulative"}
        return frame[frame["point"].astype(str).isin(ok)]

    def fit(self, history: pd.DataFrame) -> ResidualDetector:
        """Fit the forecaster and the residual scale of each point on history readings."""
        h = self._points(history)
        if self.forecaster is None:
            self.forecaster = ProfileBaseline(self.timezone)
        self.forecaster.fit(h)
        e = h["value"].to_numpy(dtype=float) - self.forecaster.predict(h)
        _, _, hour = _local_slots(h["ts"], self.timezone)
        df = pd.DataFrame(
            {
                "point": h["point"].astype(str).to_numpy(),
                "e": e,
                "v": h["value"].to_numpy(dtype=float),
                "hour": hour.astype(int),
            }
        )
        df = df[np.isfinite(df["e"])]

        def mad(x: pd.Series) -> float:
            return _MAD * float(np.median(np.abs(x - np.median(x))))

        for pid, g in df.groupby("point"):
            lvl = float(np.median(np.abs(g["v"])))
            floor = max(self.rel_floor * lvl, 1e-9)
            s = max(mad(g["e"]), floor)
            by_hour = g.groupby("hour")["e"].agg(mad).reindex(range(24)).fillna(s)
            self.level[str(pid)] = lvl
            self.scale0[str(pid)] = s
            self.scale_h[str(pid)] = np.maximum(by_hour.to_numpy(), floor)
        self._calibrate(h)
        return self

    def score(self, new: pd.DataFrame) -> pd.DataFrame:
        """Return ``point, ts, value, expected, residual, z, z0, night`` of new readings."""
        if self.forecaster is None:
            msg = "ResidualDetector is not fitted; call fit(history) first"
            raise ValueError(msg)
        f = self._points(new)
        f = f[f["point"].astype(str).isin(self.scale0)]
        exp = self.forecaster.predict(f)
        _, _, hour = _local_slots(f["ts"], self.timezone)
        lo, hi = self.night_h
        night = (hour >= lo) & (hour < hi) if lo < hi else (hour >= lo) | (hour < hi)
        out = pd.DataFrame(
            {
                "point": f["point"].astype(str).to_numpy(),
                "ts": f["ts"].to_numpy(),
                "value": f["value"].to_numpy(dtype=float),
                "expected": exp,
                "night": night,
            }
        )
        out["residual"] = out["value"] - out["expected"]
        hr = np.clip(hour.astype(int), 0, 23)
        out["hour"] = hr
        s0 = np.empty(len(out))
        pts = out["point"].to_numpy()
        for pid in np.unique(pts):
            m = pts == pid
            s0[m] = self.scale_h[pid][hr[m]]
        out["s0"] = s0
        return out

    def detect(
        self, new: pd.DataFrame, state: dict[str, list[float]] | None = None
    ) -> pd.DataFrame:
        """Return ``night_load``, ``load`` and ``drift`` anomalies of new readings.

        Parameters
        ----------
        new : pandas.DataFrame
            ``point, ts, value``, in time order per point.
        state : dict, optional
            Per point ``[cusum_up, cusum_down]``, carried between calls (streaming).
        """
        sc = self.score(new).sort_values(["point", "ts"], kind="stable")
        out = []
        for pid, g in sc.groupby("point", sort=False):
            out.append(self._detect_point(str(pid), g, state))
        return _concat(out)

    def _arrays(self, pid: str, g: pd.DataFrame) -> dict[str, np.ndarray]:
        """Return the residual arrays of one point's scored readings (see :meth:`score`)."""
        e = g["residual"].to_numpy()
        s0 = g["s0"].to_numpy()
        iv = self.info[pid].interval_s
        day = max(int(86_400 / iv), 4)
        mad = pd.Series(np.abs(e)).rolling(day, min_periods=max(day // 4, 2)).median()
        s = np.maximum(s0, _MAD * mad.shift(1).to_numpy())
        s = np.where(np.isfinite(s), s, s0)
        z = e / s
        k = max(int(self.sustain_s / iv), 2)
        zs = pd.Series(z).rolling(k, min_periods=k).median().to_numpy()
        kl = max(int((self.long_s or 0) / iv), 2)
        zl = pd.Series(z).rolling(kl, min_periods=kl).median().to_numpy()
        lvl = np.maximum(np.abs(g["expected"].to_numpy()), 0.05 * self.level.get(pid, 0.0))
        rel = e / np.maximum(lvl, 1e-9)
        rs = pd.Series(rel).rolling(k, min_periods=k).median().to_numpy()
        rl = pd.Series(rel).rolling(kl, min_periods=kl).median().to_numpy()
        z0 = np.clip(np.where(np.isfinite(e), e / s0, 0.0), -self.clip, self.clip)
        return {
            "e": e, "z": z, "zs": zs, "zl": zl, "rel": rel, "rs": rs, "rl": rl, "z0": z0,
            "k": np.array([k, kl]),
        }  # fmt: skip

    def _cusum(
        self, z0: np.ndarray, flag: np.ndarray, h: float, start: tuple[float, float]
    ) -> tuple[list[int], list[float], float, float, np.ndarray]:
        """Run the two-sided CUSUM; return alarms, their scores, the end state and the path."""
        up, dn = start
        idx, sc = [], []
        path = np.zeros(len(z0))
        for j in range(len(z0)):
            if flag[j]:
                up = dn = 0.0
                continue
            up = max(0.0, up + z0[j] - self.k)
            dn = max(0.0, dn - z0[j] - self.k)
            path[j] = max(up, dn)
            if up > h or dn > h:
                idx.append(j)
                sc.append(max(up, dn))
                up = dn = 0.0
        return idx, sc, up, dn, path

    def _calibrate(self, history: pd.DataFrame) -> None:
        """Raise each point's load and drift thresholds above what its history reaches."""
        sc = self.score(history).sort_values(["point", "ts"], kind="stable")
        for pid, g in sc.groupby("point", sort=False):
            a = self._arrays(str(pid), g)
            night = g["night"].to_numpy()
            for zkey, rkey, table in (("zs", "rs", self.z_point), ("zl", "rl", self.z_long)):
                zs, rs = a[zkey], a[rkey]
                m = np.isfinite(zs) & np.isfinite(rs) & (np.abs(rs) >= self.min_rel)
                zq = (
                    pd.Series(np.where(m, np.abs(zs), 0.0))
                    .groupby(night)
                    .quantile(self.quantile)
                    .reindex([False, True])
                    .fillna(0.0)
                    .to_numpy()
                )
                table[str(pid)] = np.maximum(self.z_load, self.margin * zq)
            c = self._cusum(a["z0"], np.zeros(len(a["z0"]), bool), np.inf, (0.0, 0.0))[4]
            cq = float(np.quantile(c, self.quantile)) if len(c) else 0.0
            self.h_point[str(pid)] = max(self.h, self.margin * cq)

    def _detect_point(
        self, pid: str, g: pd.DataFrame, state: dict[str, list[float]] | None, first: int = 0
    ) -> pd.DataFrame:
        """Return the anomalies of one point's scored readings from row ``first`` on.

        Rows before ``first`` are context (the adaptive scale, sustained windows).
        """
        a = self._arrays(pid, g)
        e, z = a["e"], a["z"]
        v = g["value"].to_numpy()
        ts = g["ts"].to_numpy(dtype="datetime64[ns]").view("int64")
        at_night = g["night"].to_numpy().astype(int)
        flag = np.zeros(len(e), dtype=bool)
        lowest = np.full(len(e), np.inf)
        windows = [("zs", "rs", self.z_point, int(a["k"][0]))]
        if self.long_s:
            windows.append(("zl", "rl", self.z_long, int(a["k"][1])))
        for zkey, rkey, table, k in windows:
            thr = table[pid][at_night] if pid in table else np.full(len(e), self.z_load)
            lowest = np.minimum(lowest, thr)
            zs, rs = a[zkey], a[rkey]
            hot = np.isfinite(zs) & (np.abs(zs) >= thr) & np.isfinite(rs)
            hot &= np.abs(rs) >= self.min_rel
            # A sustained excess flags the window that made it.
            for j in np.flatnonzero(hot):
                flag[max(j - k + 1, 0) : j + 1] = True
        flag &= (np.abs(z) >= lowest) & (np.abs(a["rel"]) >= self.min_rel)
        z_thr = lowest
        night = g["night"].to_numpy()
        is_night = flag & night & (e > 0)
        is_load = flag & ~is_night
        crit = 3 * z_thr
        frames = [
            _frame(pid, ts[m], kind, np.abs(z[m]), v[m], crit[m])
            for kind, m in (("night_load", is_night), ("load", is_load))
        ]
        if pid in self.no_drift:
            return _concat(frames)
        # Drift: CUSUM of clipped z0 both ways, restarting after each alarm and at loads.
        h = self.h_point.get(pid, self.h)
        start = tuple((state or {}).get(pid, [0.0, 0.0]))
        z0, fl = a["z0"][first:], flag[first:]
        idx, sc, up, dn, _ = self._cusum(z0, fl, h, start)  # type: ignore[arg-type]
        if state is not None:
            state[pid] = [up, dn]
        ii = np.asarray(idx, dtype=np.int64) + first
        frames.append(_frame(pid, ts[ii], "drift", np.asarray(sc), v[ii], 3 * h))
        out = _concat(frames)
        if first:
            out = out[out["ts"].to_numpy(dtype="datetime64[ns]").view("int64") >= ts[first]]
        return out


def _window_amounts(ts: np.ndarray, v: np.ndarray, pi: PointInfo, window_ns: int) -> pd.Series:
    """Return the point's rate per window [point unit per window], indexed by window start."""
    if pi.kind == "cumulative":
        d = np.diff(v)
        good = d >= 0
        start = ts[:-1][good]
        amount = d[good]
        return pd.Series(amount, index=start - start % window_ns).groupby(level=0).sum()
    if pi.kind == "interval":
        return pd.Series(v, index=ts - ts % window_ns).groupby(level=0).sum()
    return pd.Series(v, index=ts - ts % window_ns).groupby(level=0).mean()


@dataclass
class PairDriftDetector:
    r"""Drift of one meter against a redundant meter of the same asset and signal.

    Per window (the energy point's interval), :math:`x = \ln(E / P)` of the energy
    point's amount and the power point's mean; the history gives its median :math:`c`
    and robust scale :math:`s`. A two-sided CUSUM of :math:`(x - c)/s` with allowance
    ``k`` flags ``drift`` when it exceeds ``h``; a window whose single deviation exceeds
    ``jump`` scales is a jump (a spike, a night load), not a drift, and restarts the CUSUM.
    The alarm names the meter whose own residual is larger (see :meth:`detect`); pairs
    whose ratio varies by more than ``max_scale`` in history are not used.

    **Night load.** The redundant meter is the process context of a load: a load that
    really runs shows on both meters, while an excess on one meter alone breaks their
    ratio. At least ``night_windows`` consecutive windows in the local night whose ratio
    is ``night_z`` scales or more away from usual, on the side where one meter reads
    *more* than the other, are a ``night_load`` on that meter when they start abruptly
    (one of the two windows before is within a third of ``night_z``: a drift creeps up
    to the threshold instead). This finds abnormal night
    loads on loads that are bursty by nature (chargers, batch lines, a grid draw topped
    up by a plant), whose own history cannot tell them from normal.

    Parameters
    ----------
    pairs : list of tuple
        ``(asset, energy point, power point)`` as from :func:`meter_pairs`.
    info : mapping of str to PointInfo
        Points.
    timezone : str, optional
        The park's zone, for the night hours; the residual detector's when one is given
        to :meth:`detect`, else night loads are not judged.
    night_h : tuple of float
        Local start and end hour of the night [h] (may wrap midnight).
    night_z : float
        Smallest deviation of a night-load window [robust SDs of the log ratio].
    night_windows : int
        Consecutive windows a night load lasts at least.
    """

    pairs: list[tuple[str, str, str]]
    info: Mapping[str, PointInfo]
    k: float = 2.0
    h: float = 30.0
    jump: float = 25.0
    max_scale: float = 0.05
    timezone: str | None = None
    night_h: tuple[float, float] = (22.0, 6.0)
    night_z: float = 6.0
    night_windows: int = 2
    params: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def _windows(self, frame: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
        """Per pair, both meters' amounts per window (columns ``e``, ``p``; both > 0)."""
        series = {pid: (ts, v) for pid, ts, v in _series(frame)}
        out = {}
        for _, e, p in self.pairs:
            if e not in series or p not in series:
                continue
            w = int(self.info[e].interval_s * 1e9)
            ae = _window_amounts(*series[e], self.info[e], w).rename("e")
            ap = _window_amounts(*series[p], self.info[p], w).rename("p")
            both = pd.concat([ae, ap], axis=1, join="inner")
            out[(e, p)] = both[(both["e"] > 0) & (both["p"] > 0)]
        return out

    def _ratios(self, frame: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
        return {k: np.log(b["e"] / b["p"]) for k, b in self._windows(frame).items()}

    def fit(self, history: pd.DataFrame) -> PairDriftDetector:
        """Learn each pair's usual log ratio and its robust scale."""
        self.params = {}
        for key, x in self._ratios(history).items():
            if len(x) < 20:
                continue
            c = float(np.median(x))
            s = _MAD * float(np.median(np.abs(x - c)))
            if 0 < s <= self.max_scale:
                self.params[key] = (c, max(s, 1e-4))
        return self

    def detect(self, new: pd.DataFrame, baseline: ResidualDetector | None = None) -> pd.DataFrame:
        """Return ``drift`` and ``night_load`` anomalies of redundant meter pairs.

        A drift is one anomaly per alarm, on the meter that drifts; a night load one per
        window, on the meter that reads too much.

        Parameters
        ----------
        new : pandas.DataFrame
            ``point, ts, value``.
        baseline : ResidualDetector, optional
            Decides which meter of the pair drifts (the larger own residual); the power
            meter when omitted or when it cannot tell. Its zone and night hours serve
            when the detector has no zone of its own.
        """
        out = []
        tz = self.timezone or (baseline.timezone if baseline is not None else None)
        night_h = self.night_h if self.timezone or baseline is None else baseline.night_h
        for (e, p), both in self._windows(new).items():
            if (e, p) not in self.params:
                continue
            x = np.log(both["e"] / both["p"])
            c, s = self.params[(e, p)]
            z = ((x - c) / s).to_numpy()
            if tz is not None:
                out.append(self._night_loads(e, p, both, z, tz, night_h))
            up = dn = 0.0
            idx, sc = [], []
            for j in range(len(z)):
                if abs(z[j]) > self.jump:
                    up = dn = 0.0
                    continue
                up = max(0.0, up + z[j] - self.k)
                dn = max(0.0, dn - z[j] - self.k)
                if up > self.h or dn > self.h:
                    idx.append(j)
                    sc.append(max(up, dn))
                    up = dn = 0.0
            if not idx:
                continue
            ts = x.index.to_numpy()[idx]
            who = self._culprit(e, p, new, ts, baseline)
            out.append(_frame(who, ts, "drift", np.asarray(sc), np.exp(z[idx] * s + c), 3 * self.h))
        return _concat(out)

    def _night_loads(
        self,
        e: str,
        p: str,
        both: pd.DataFrame,
        z: np.ndarray,
        tz: str,
        night_h: tuple[float, float],
    ) -> pd.DataFrame | None:
        """Return the night-load windows of one pair.

        ``z > 0``: the energy meter reads more than usual for the power meter's reading;
        ``z < 0``: the power meter does.
        """
        t = both.index.to_numpy(dtype="int64")
        if not len(t):
            return None
        w = int(self.info[e].interval_s * 1e9)
        local = pd.to_datetime(t, utc=True).tz_convert(tz)
        hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
        lo, hi = night_h
        night = (hour >= lo) & (hour < hi) if lo < hi else (hour >= lo) | (hour < hi)
        frames = []
        for sign, who, col in ((1.0, e, "e"), (-1.0, p, "p")):
            hot = night & (sign * z >= self.night_z)
            # Runs of consecutive hot windows (one window apart).
            new_run = np.r_[True, (np.diff(t) != w) | ~hot[:-1]] & hot
            run_id = np.cumsum(new_run)
            run_id[~hot] = 0
            if not run_id.any():
                continue
            length = np.bincount(run_id)
            # A load switched on starts abruptly: one of the two windows before the run
            # (each one window apart) is normal. A drift creeps up to the threshold.
            abrupt = np.zeros(len(length), dtype=bool)
            for r, i0 in zip(run_id[new_run], np.flatnonzero(new_run), strict=True):
                before = [
                    abs(z[i0 - j]) for j in (1, 2) if i0 - j >= 0 and t[i0] - t[i0 - j] == j * w
                ]
                abrupt[r] = bool(before) and min(before) < self.night_z / 3
            keep = hot & (length[run_id] >= self.night_windows) & abrupt[run_id]
            if not keep.any():
                continue
            value = both[col].to_numpy(dtype=float)[keep]
            score = np.abs(z[keep])
            # Stamped at the window's last reading: its first may precede the load.
            last = t[keep] + w - int(self.info[who].interval_s * 1e9)
            frames.append(_frame(who, last, "night_load", score, value, 2 * self.night_z))
        return _concat(frames) if frames else None

    def _culprit(
        self, e: str, p: str, new: pd.DataFrame, ts: np.ndarray, baseline: ResidualDetector | None
    ) -> str:
        if baseline is None or baseline.forecaster is None:
            return p
        w = int(self.info[e].interval_s * 1e9)
        rel = {}
        for pid in (e, p):
            if pid not in baseline.scale0:
                continue
            f = new[new["point"].astype(str) == pid]
            t = f["ts"].to_numpy(dtype="datetime64[ns]").view("int64")
            m = np.isin(t - t % w, ts)
            if not m.any():
                continue
            sc = baseline.score(f[m])
            rel[pid] = float(np.nanmedian(np.abs(sc["residual"] / sc["s0"])))
        if not rel:
            return p
        return max(rel, key=rel.get)


@dataclass
class MahalanobisDetector:
    r"""Disagreement of several points of one asset: Mahalanobis distance of their log levels.

    Per window, each point's amount (as in :class:`PairDriftDetector`), ``log1p`` of it
    over its history median, standardised; the distance
    :math:`d^2 = (x - \mu)^\top \Sigma^{-1} (x - \mu)` against the history's mean and
    covariance. Windows with :math:`d` above ``margin`` times the history's 99.9th
    percentile are ``asset_mismatch`` anomalies, on the point that contributes most.

    Parameters
    ----------
    groups : mapping of str to list of str
        Points of each asset.
    info : mapping of str to PointInfo
        Points.
    window_s : float
        Window length [s].
    """

    groups: Mapping[str, list[str]]
    info: Mapping[str, PointInfo]
    window_s: float = 900.0
    margin: float = 1.5
    params: dict[str, tuple] = field(default_factory=dict)

    def _matrix(self, frame: pd.DataFrame, pts: list[str]) -> pd.DataFrame:
        w = int(self.window_s * 1e9)
        series = {
            pid: (ts, v) for pid, ts, v in _series(frame[frame["point"].astype(str).isin(pts)])
        }
        cols = {
            pid: _window_amounts(*series[pid], self.info[pid], w) for pid in pts if pid in series
        }
        if len(cols) < 2:
            return pd.DataFrame()
        return pd.DataFrame(cols).dropna()

    def fit(self, history: pd.DataFrame) -> MahalanobisDetector:
        """Learn the mean, covariance and distance threshold of each asset."""
        self.params = {}
        for asset, pts in self.groups.items():
            m = self._matrix(history, list(pts))
            if len(m) < 50:
                continue
            med = m.median().abs() + 1e-9
            x = np.log1p(np.maximum(m / med, 0.0)).to_numpy()
            mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
            zx = (x - mu) / sd
            cov = np.cov(zx, rowvar=False) + 1e-6 * np.eye(zx.shape[1])
            inv = np.linalg.pinv(cov)
            d = np.sqrt(np.einsum("ij,jk,ik->i", zx, inv, zx))
            self.params[asset] = (list(m.columns), med, mu, sd, inv, float(np.quantile(d, 0.999)))
        return self

    def detect(self, new: pd.DataFrame) -> pd.DataFrame:
        """Return ``asset_mismatch`` anomalies of new readings, one per window."""
        out = []
        for cols, med, mu, sd, inv, thr in self.params.values():
            m = self._matrix(new, cols)
            if not len(m) or list(m.columns) != cols:
                continue
            x = np.log1p(np.maximum(m[cols] / med, 0.0)).to_numpy()
            zx = (x - mu) / sd
            d = np.sqrt(np.einsum("ij,jk,ik->i", zx, inv, zx))
            hit = np.flatnonzero(d > self.margin * thr)
            if not len(hit):
                continue
            contrib = np.abs(zx @ inv) * np.abs(zx)
            who = np.asarray(cols)[np.argmax(contrib[hit], axis=1)]
            vals = m[cols].to_numpy()[hit, np.argmax(contrib[hit], axis=1)]
            out.append(
                _frame(
                    who,
                    m.index.to_numpy()[hit],
                    "asset_mismatch",
                    d[hit],
                    vals,
                    2 * self.margin * thr,
                )
            )
        return _concat(out)


def detect_all(
    readings: pd.DataFrame,
    info: Mapping[str, PointInfo],
    residual: ResidualDetector | None = None,
    pairs: PairDriftDetector | None = None,
    multivariate: MahalanobisDetector | None = None,
) -> pd.DataFrame:
    """Run every detector on stored readings and return all anomalies, oldest first.

    Parameters
    ----------
    readings : pandas.DataFrame
        ``point, ts, value``.
    info : mapping of str to PointInfo
        Points.
    residual, pairs, multivariate : optional
        Fitted behaviour detectors; pair drift replaces the residual CUSUM on the power
        points of the pairs it uses.
    """
    frames = [
        detect_spikes(readings),
        detect_stuck(readings, info),
        detect_gaps(readings, info),
        detect_resets(readings, info),
        detect_clock(readings, info),
    ]
    if residual is not None:
        if pairs is not None:
            used = {p for _, p in pairs.params} | residual.no_drift
            residual = dataclasses.replace(residual, no_drift=used)
        frames.append(residual.detect(readings))
    if pairs is not None:
        frames.append(pairs.detect(readings, residual))
    if multivariate is not None:
        frames.append(multivariate.detect(readings))
    return _concat(frames)


# --------------------------------------------------------------------------- streaming
class OnlineDetector:
    """Detect anomalies on reading batches as they arrive.

    Keeps per point a short tail of readings (neighbours for spikes, runs, the grid for
    gaps), what is normal for its repeated values, a day of readings for the adaptive
    residual scale and the two numbers of its drift CUSUM. Each call returns only
    anomalies of readings not judged before. A spike needs the next reading, so the last
    reading of a batch is judged for spikes with the next batch. Pair drift and the
    multivariate detector need whole windows: run them on stored data (e.g. every 15 min).

    Parameters
    ----------
    info : mapping of str to PointInfo
        Points.
    history : pandas.DataFrame
        ``point, ts, value`` readings of a normal period (three weeks or more) to learn
        baselines, thresholds and what is normal for each point.
    timezone : str
        The park's zone.
    night_h : tuple of float
        Local start and end hour of the night [h].
    tail : int
        Readings kept per point for the data-quality detectors.
    no_drift : set of str, optional
        Points whose drift is judged against a redundant meter instead.
    """

    def __init__(
        self,
        info: Mapping[str, PointInfo],
        history: pd.DataFrame,
        *,
        timezone: str = "Asia/Shanghai",
        night_h: tuple[float, float] = (22.0, 6.0),
        tail: int = 32,
        no_drift: set[str] | None = None,
    ) -> None:
        self.info = info
        self.tail_n = tail
        self.residual = ResidualDetector(info, timezone=timezone, night_h=night_h).fit(history)
        self.residual.no_drift = set(no_drift or ())
        self.profiles = {
            pid: stuck_profile(v, info.get(pid, PointInfo()).kind == "cumulative")
            for pid, _, v in _series(history)
        }
        self.tail: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.day: dict[str, pd.DataFrame] = {}
        self.cusum: dict[str, list[float]] = {}

    def update(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Return the new anomalies of a batch of ``point, ts, value`` readings."""
        out = [self._quality(pid, ts, v) for pid, ts, v in _series(batch)]
        out.append(self._load(batch))
        return _concat(out)

    def _quality(self, pid: str, ts: np.ndarray, v: np.ndarray) -> pd.DataFrame:
        old_ts, old_v = self.tail.get(pid, (np.zeros(0, np.int64), np.zeros(0)))
        n = len(old_ts)
        t = np.concatenate((old_ts, ts))
        x = np.concatenate((old_v, v))
        pi = self.info.get(pid, PointInfo())
        frames = []
        # Spikes: reading i needs i + 1, so the tail's last reading is judged now.
        idx, z = _spikes_1d(x, 8.0, 0.01)
        m = idx >= n - 1
        frames.append(_frame(pid, t[idx[m]], "spike", z[m], x[idx[m]], 40.0))
        idx, sc = _stuck_1d(x, 4, self.profiles.get(pid, StuckProfile()))
        m = idx >= n
        frames.append(_frame(pid, t[idx[m]], "stuck", sc[m], x[idx[m]], 16.0))
        step = int(pi.interval_s * 1e9)
        idx, miss = _gaps_1d(t, step, int(0.05 * step), _grid_phase(t, step))
        m = idx >= n
        frames.append(_frame(pid, t[idx[m]], "gap", miss[m], x[idx[m]], 4.0))
        if pi.kind == "cumulative":
            idx, sc = _resets_1d(x, pi.rollover)
            m = idx >= n
            f = _frame(pid, t[idx[m]], "reset", sc[m], x[idx[m]], np.inf)
            if f is not None:
                f["severity"] = np.where(f["score"] < 50, "critical", "warning")
            frames.append(f)
        self.tail[pid] = (t[-self.tail_n :], x[-self.tail_n :])
        return _concat(frames)

    def _load(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Judge new readings against the baseline; the last day gives the adaptive scale."""
        scored = self.residual.score(batch)
        if not len(scored):
            return _empty()
        scored = scored.sort_values(["point", "ts"], kind="stable")
        out = []
        for pid, g in scored.groupby("point", sort=False):
            pid = str(pid)
            prev = self.day.get(pid)
            both = g if prev is None else pd.concat([prev, g], ignore_index=True)
            first = len(both) - len(g)
            out.append(self.residual._detect_point(pid, both, self.cusum, first))
            keep = max(int(86_400 / self.info[pid].interval_s), 4) + 2
            self.day[pid] = both.iloc[-keep:].reset_index(drop=True)
        return _concat(out)


# --------------------------------------------------------------------------- evaluation
def episodes(
    readings: pd.DataFrame,
    faults: pd.DataFrame | None = None,
    info: Mapping[str, PointInfo] | None = None,
    *,
    min_rel: float = 0.01,
    min_night_s: float = 900.0,
) -> pd.DataFrame:
    """Return the labelled fault episodes: ``point, fault, start, end, observable``.

    An episode is a run of consecutive readings of a point with the same ``fault`` label;
    drop-outs (which never arrive) come from the fault log ``faults`` and merge when one
    interval apart. An episode is *observable* when a reading's value differs from its
    ``true_value`` by at least ``min_rel`` of the point's typical level (the median
    :math:`|v_{true}|`, at least 1 % of its 99th percentile): a spike on 0 or a stuck 0
    at night cannot be seen. A night load is a sustained excess: observable when it
    lasts ``min_night_s`` [s] (one quarter-hour) or more and its *mean* excess reaches
    ``min_rel`` of the level (a load that starts minutes before the night ends, or an
    idle charger's 1.5 × 0, is no load to see). Drop-outs are always observable.
    """
    r = readings.sort_values(["point", "ts"], kind="stable")
    pts = r["point"].astype(str).to_numpy()
    lab = r["fault"].astype(str).to_numpy()
    ts = r["ts"].to_numpy(dtype="datetime64[ns]").view("int64")
    v = r["value"].to_numpy(dtype=float)
    t = r["true_value"].to_numpy(dtype=float)
    absd = np.abs(v - t)
    lvl = (
        pd.Series(np.abs(t))
        .groupby(pts)
        .agg(lambda x: max(float(np.median(x)), 0.01 * float(np.quantile(x, 0.99)), 1e-9))
    )
    # Runs of a label; a long fault (drift, night load) interrupted by short ones (a spike
    # inside it) stays one episode: its readings join when at most 30 readings apart.
    pos = np.arange(len(r))
    parts = []
    for label in np.unique(lab[lab != "none"]):
        at = np.flatnonzero(lab == label)
        join = 31 if label in ("drift", "night_load") else 1
        brk = np.ones(len(at), dtype=bool)
        brk[1:] = (pts[at[1:]] != pts[at[:-1]]) | (np.diff(pos[at]) > join)
        parts.append(
            pd.DataFrame({"g": np.cumsum(brk), "point": pts[at], "ts": ts[at], "d": absd[at]})
            .groupby("g")
            .agg(
                point=("point", "first"),
                start=("ts", "min"),
                end=("ts", "max"),
                d=("d", "max"),
                dm=("d", "mean"),
            )
            .assign(fault=label)
        )
    if parts:
        agg = pd.concat(parts, ignore_index=True)
    else:
        agg = pd.DataFrame(columns=["point", "start", "end", "d", "dm", "fault"])
    level = min_rel * agg["point"].map(lvl).to_numpy(dtype=float)
    night = (agg["fault"] == "night_load").to_numpy()
    span_s = (agg["end"].to_numpy(dtype=float) - agg["start"].to_numpy(dtype=float)) / 1e9
    agg["observable"] = np.where(
        night,
        (agg["dm"].to_numpy(dtype=float) >= level) & (span_s >= min_night_s),
        agg["d"].to_numpy(dtype=float) >= level,
    )
    rows = [agg.drop(columns=["d", "dm"])]
    if faults is not None and len(faults):
        dr = faults[faults["fault"].astype(str) == "dropout"]
        if len(dr):
            d = pd.DataFrame(
                {
                    "point": dr["point"].astype(str).to_numpy(),
                    "ts": dr["ts"].to_numpy(dtype="datetime64[ns]").view("int64"),
                }
            ).sort_values(["point", "ts"])
            iv = d["point"].map(lambda p: (info or {}).get(p, PointInfo()).interval_s) * 1e9
            gap = d["ts"].diff().to_numpy()
            brk = (d["point"] != d["point"].shift()).to_numpy() | ~(gap <= 1.01 * iv.to_numpy())
            d["g"] = np.cumsum(brk)
            e = d.groupby("g").agg(point=("point", "first"), start=("ts", "min"), end=("ts", "max"))
            e["fault"] = "dropout"
            e["observable"] = True
            rows.append(e)
    out = pd.concat(rows, ignore_index=True)
    for c in ("start", "end"):
        out[c] = pd.to_datetime(out[c].astype("int64"), utc=True)
    return out[["point", "fault", "start", "end", "observable"]]


def _events(det: pd.DataFrame, merge_ns: Mapping[str, int]) -> pd.DataFrame:
    """Group flagged readings of a point and kind into events ``point, kind, start, end``."""
    if not len(det):
        return pd.DataFrame(columns=["point", "kind", "start", "end"])
    d = det.assign(point=det["point"].astype(str)).sort_values(["point", "kind", "ts"])
    t = d["ts"].to_numpy(dtype="datetime64[ns]").view("int64")
    p, k = d["point"].to_numpy(), d["kind"].to_numpy()
    m = np.array([merge_ns.get(x, 1_800_000_000_000) for x in p])
    brk = np.ones(len(d), dtype=bool)
    brk[1:] = (p[1:] != p[:-1]) | (k[1:] != k[:-1]) | (np.diff(t) > m[1:])
    d = d.assign(g=np.cumsum(brk), t=t)
    return d.groupby("g").agg(
        point=("point", "first"), kind=("kind", "first"), start=("t", "min"), end=("t", "max")
    )


def evaluate(
    detections: pd.DataFrame,
    readings: pd.DataFrame,
    faults: pd.DataFrame | None = None,
    info: Mapping[str, PointInfo] | None = None,
    *,
    tolerance_intervals: float = 2.0,
    drift_tolerance_s: float = 6 * 3600.0,
) -> pd.DataFrame:
    """Return precision and recall of detections against labelled fault episodes, per kind.

    Detections of a point and kind whose readings lie within two intervals of each other
    form one *event* (an alarm). For the twin's fault label ``L`` of each anomaly kind
    (:data:`KIND_TO_FAULT`):

    - an event is a true positive when it overlaps an episode of ``L`` on the same point,
      widened by ``tolerance_intervals`` intervals each side (``drift_tolerance_s`` after
      a drift episode's end: the CUSUM needs time); an event on an unobservable episode
      of ``L`` counts neither way; precision = TP events / counted events;
    - an observable episode of ``L`` is detected when such an event overlaps it;
      recall = detected / observable episodes.

    Returns
    -------
    pandas.DataFrame
        Indexed by fault label: ``episodes``, ``unobservable``, ``detected``, ``recall``,
        ``events``, ``tp_events``, ``precision``.
    """
    info = info or {}
    ep = episodes(readings, faults, info)
    iv_ns = {p: int(i.interval_s * 1e9) for p, i in info.items()}
    ev = _events(detections, {p: 2 * v for p, v in iv_ns.items()})
    rows = {}
    for kind, label in KIND_TO_FAULT.items():
        if label is None:
            continue
        e = ep[ep["fault"] == label]
        x = ev[ev["kind"] == kind]
        tol = (
            e["point"].map(lambda p: tolerance_intervals * iv_ns.get(p, 900_000_000_000)).to_numpy()
        )
        es = e["start"].to_numpy(dtype="datetime64[ns]").view("int64") - tol
        ee = e["end"].to_numpy(dtype="datetime64[ns]").view("int64") + tol
        if label == "drift":
            ee = ee + int(drift_tolerance_s * 1e9)
        by_point: dict[str, np.ndarray] = {}
        for i, p in enumerate(e["point"].to_numpy()):
            by_point.setdefault(p, []).append(i)  # type: ignore[attr-defined]
        obs = e["observable"].to_numpy()
        hit_ep = np.zeros(len(e), dtype=bool)
        tp = neutral = 0
        for p, s, t in zip(x["point"], x["start"], x["end"], strict=True):
            cand = np.asarray(by_point.get(p, []), dtype=np.int64)
            ov = cand[(es[cand] <= t) & (ee[cand] >= s)] if len(cand) else cand
            if not len(ov):
                continue
            if obs[ov].any():
                tp += 1
                hit_ep[ov[obs[ov]]] = True
            else:
                neutral += 1
        n_obs = int(obs.sum())
        counted = len(x) - neutral
        rows[label] = {
            "episodes": n_obs,
            "unobservable": int((~obs).sum()),
            "detected": int(hit_ep.sum()),
            "recall": hit_ep.sum() / n_obs if n_obs else np.nan,
            "events": counted,
            "tp_events": tp,
            "precision": tp / counted if counted else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
