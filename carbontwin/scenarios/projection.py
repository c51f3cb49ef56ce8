"""Projections of a park's energy and emissions: Kaya top-down, bottom-up measures, STIRPAT.

The projection of one scenario is the Kaya identity per industry, with the bottom-up
measures applied to the accounted sources of the base year:

- value added ``A``, energy intensity ``EI`` and the carbon intensity of the fuels burnt
  on site ``CI`` follow their trajectories; energy ``E = A × EI``, combustion emissions
  ``C = E₁ × CI`` (Kaya);
- electrification moves a share of the scope-1 fuels to purchased electricity;
- process changes and CCUS cut and capture the process part of scope 1;
- new PV (and the storage that shifts its surplus) displaces purchased electricity at the
  grid factor of the year; green-space sinks are subtracted from the gross emissions.

:func:`project` gives the deterministic (nominal) projection as an xarray Dataset over
``scenario × year × industry × scope``. The same vectorised kernel serves the Monte Carlo
(:mod:`carbontwin.scenarios.montecarlo`) and the sensitivity analysis: each uncertain
driver is one column of quantiles ``u`` in [0, 1].

:func:`fit_stirpat` fits ``ln I = a + b ln P + c ln A + d ln T`` by OLS (statsmodels) on a
history frame and :meth:`StirpatFit.predict` projects it.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtri

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios.definition import (
    INDUSTRY_DRIVERS,
    PARK_DRIVERS,
    Study,
    Trajectory,
    Uncertainty,
)

__all__ = [
    "CompiledScenario",
    "StirpatFit",
    "compile_scenario",
    "evaluate",
    "fit_stirpat",
    "kaya",
    "peak",
    "project",
    "shifts",
]

_KAYA_INTENSITIES = ("energy_intensity_tce_per_1e4cny", "carbon_intensity_tco2_per_tce")
_DISTS = {"normal": 0, "lognormal": 1, "uniform": 2, "triangular": 3}
_RATE_FLOOR = -0.999  # rates are clipped at -99.9 %/yr so that levels stay positive
_TINY = 1e-300


def kaya(
    value_added_1e4cny: Any,
    energy_intensity_tce_per_1e4cny: Any,
    carbon_intensity_tco2_per_tce: Any,
) -> Any:
    """Return emissions by the Kaya identity, ``C = A × (E / A) × (C / E)`` [tCO2].

    Parameters
    ----------
    value_added_1e4cny : array_like
        Value added ``A`` [10^4 CNY].
    energy_intensity_tce_per_1e4cny : array_like
        Energy intensity ``E / A`` [tce / 10^4 CNY].
    carbon_intensity_tco2_per_tce : array_like
        Carbon intensity of energy ``C / E`` [tCO2 / tce].

    Returns
    -------
    array_like
        Emissions [tCO2], broadcast like the inputs (xarray aligns by dimension name).

    Notes
    -----
    Kaya (1990) writes ``CO2 = P × (GDP / P) × (E / GDP) × (CO2 / E)``; for a park the
    population factor is dropped and value added stands for GDP.

    References
    ----------
    Kaya Y. (1990), Impact of carbon dioxide emission control on GNP growth, IPCC EIS.

    Examples
    --------
    >>> kaya(100_000.0, 0.5, 2.6)
    130000.0
    """
    return value_added_1e4cny * energy_intensity_tce_per_1e4cny * carbon_intensity_tco2_per_tce


# --------------------------------------------------------------------------- compiling
@dataclass
class _Path:
    """One driver compiled to arrays over the years (index 0 = base year)."""

    key: str
    kind: str
    industry: str | None
    base: float
    dist: int = 0
    spread: float = 0.0
    mode: str = "const"  # "const", "rate" or "values"
    rate_of_year: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,), 0 first
    index: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) nominal / base
    nominal: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) level
    weight: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) d level / d shift
    base_part: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,)
    column: int = -1  # column of ``u`` when uncertain


@dataclass
class _Event:
    key: str
    industry: int
    start: int  # year index
    frac: float  # value added ÷ the industry's nominal value added that year
    dist: int
    spread: float
    value_added_1e4cny: float
    nominal_va: float
    column: int = -1


@dataclass
class CompiledScenario:
    """A scenario reduced to numpy arrays, ready for the vectorised kernel (picklable).

    ``uncertain`` lists the keys of the uncertain drivers in the column order of ``u``;
    ``spreads`` and ``dists`` their spread and distribution; ``units`` their units.
    """

    scenario: str
    years: np.ndarray
    industries: list[str]
    a0: np.ndarray
    e1: np.ndarray
    e2: np.ndarray
    c0: np.ndarray
    p0: np.ndarray
    el0: np.ndarray
    h0: np.ndarray
    grid0: float
    params: dict[str, float]
    paths: dict[str, _Path]
    events: list[_Event]
    uncertain: list[str]
    modes: dict[str, str]
    units: dict[str, str]
    stream: int

    @property
    def n_uncertain(self) -> int:
        """The number of uncertain drivers (columns of ``u``)."""
        return len(self.uncertain)


def _key(kind: str, industry: str | None) -> str:
    return kind if industry is None else f"{kind}:{industry}"


def _compile_path(
    kind: str, industry: str | None, traj: Trajectory | None, base: float, years: np.ndarray
) -> _Path:
    t = len(years)
    path = _Path(key=_key(kind, industry), kind=kind, industry=industry, base=float(base))
    if traj is None:
        path.nominal = np.full(t, float(base))
        path.index = np.ones(t)
        return path
    unc: Uncertainty = traj.uncertainty
    path.dist, path.spread = _DISTS[unc.dist], float(unc.spread)
    if traj.periods is not None:
        path.mode = "rate"
        ps = traj.periods
        rate_of_year = np.zeros(t)
        for j, year in enumerate(years[1:], start=1):
            rate = ps[-1].rate_frac_per_yr
            for p in ps:
                if p.start <= year <= p.end:
                    rate = p.rate_frac_per_yr
                    break
            rate_of_year[j] = rate
        path.rate_of_year = rate_of_year
        path.index = np.cumprod(1.0 + rate_of_year)
        path.nominal = float(base) * path.index
    else:
        path.mode = "values"
        assert traj.values is not None
        given = sorted(traj.values.items())
        xs = np.array([years[0]] + [y for y, _ in given], dtype=float)
        # weights of each anchor in the linear interpolation, per year
        w = np.zeros((len(xs), t))
        for i in range(len(xs)):
            unit = np.zeros(len(xs))
            unit[i] = 1.0
            w[i] = np.interp(years.astype(float), xs, unit)
        vals = np.array([base] + [v for _, v in given], dtype=float)
        path.nominal = vals @ w
        path.weight = w[1:].sum(axis=0)
        path.base_part = float(base) * w[0]
        path.index = np.maximum(path.nominal, _TINY) / float(base) if base else np.ones(t)
    return path


def compile_scenario(study: Study, scenario: str) -> CompiledScenario:
    """Reduce a scenario of a study to the arrays of the vectorised kernel.

    Parameters
    ----------
    study : Study
        A validated study.
    scenario : str
        The name of one of its scenarios.

    Returns
    -------
    CompiledScenario

    Raises
    ------
    ValidationError
        If the scenario is unknown or an exit removes more value added than its industry has.
    """
    if scenario not in study.scenarios:
        msg = f"scenario(={scenario!r}) is not in the study; it has {', '.join(study.scenarios)}"
        raise ValidationError(msg)
    years = np.array(study.years)
    base = study.base
    inds = study.industries
    grid0 = base.grid_factor_tco2_per_mwh
    a0 = np.array([base.industries[i].value_added_1e4cny for i in inds])
    e1 = np.array([base.industries[i].energy_tce[1] for i in inds])
    e2 = np.array([base.industries[i].energy_tce[2] for i in inds])
    s1 = np.array([base.industries[i].emissions_tco2e[1] for i in inds])
    s2 = np.array([base.industries[i].emissions_tco2e[2] for i in inds])
    p0 = np.array([base.industries[i].process_emissions_tco2e for i in inds])
    el0 = np.array(
        [
            base.industries[i].electricity_mwh
            if base.industries[i].electricity_mwh is not None
            else base.industries[i].emissions_tco2e[2] / grid0
            for i in inds
        ]
    )
    h0 = np.maximum(s2 - el0 * grid0, 0.0)
    c0 = s1 - p0
    bases: dict[str, np.ndarray | float] = {
        "value_added_1e4cny": a0,
        "energy_intensity_tce_per_1e4cny": (e1 + e2) / a0,
        "carbon_intensity_tco2_per_tce": np.divide(c0, e1, out=np.zeros_like(c0), where=e1 > 0),
        "electrification_frac": np.zeros(len(inds)),
        "process_reduction_frac": np.zeros(len(inds)),
        "ccus_capture_frac": np.zeros(len(inds)),
        "grid_factor_tco2_per_mwh": grid0,
        "pv_capacity_mw": base.pv_capacity_mw,
        "storage_capacity_mwh": base.storage_capacity_mwh,
        "sinks_tco2e": base.sinks_tco2e,
    }
    paths: dict[str, _Path] = {}
    for kind in INDUSTRY_DRIVERS:
        for j, ind in enumerate(inds):
            b = float(np.asarray(bases[kind])[j])
            p = _compile_path(kind, ind, study.trajectory(scenario, kind, ind), b, years)
            if kind in _KAYA_INTENSITIES and b == 0:
                p = _compile_path(kind, ind, None, 1.0, years)  # nothing to scale: moot
            paths[p.key] = p
    for kind in PARK_DRIVERS:
        p = _compile_path(kind, None, study.trajectory(scenario, kind), float(bases[kind]), years)  # type: ignore[arg-type]
        paths[p.key] = p
    events: list[_Event] = []
    for ev in sorted(study.scenarios[scenario].events, key=lambda e: e.year):
        if ev.year > study.horizon:
            continue  # after the horizon: no effect
        i = inds.index(ev.industry)
        k = int(np.searchsorted(years, ev.year))
        va = float(paths[_key("value_added_1e4cny", ev.industry)].nominal[k])
        for earlier in events:  # the industry as the earlier entries and exits left it
            if earlier.industry == i and earlier.start <= k:
                va *= 1.0 + earlier.frac
        frac = ev.value_added_1e4cny / va
        if frac <= -1:
            msg = (
                f"events[{ev.name!r}]: value_added_1e4cny(={ev.value_added_1e4cny}) removes "
                f"more than the industry {ev.industry!r} has in {ev.year} (~{va:.6g}); "
                "make the exit smaller"
            )
            raise ValidationError(msg)
        events.append(
            _Event(
                key=f"event:{ev.name}",
                industry=i,
                start=k,
                frac=frac,
                dist=_DISTS[ev.uncertainty.dist],
                spread=float(ev.uncertainty.spread),
                value_added_1e4cny=ev.value_added_1e4cny,
                nominal_va=va,
            )
        )
    uncertain: list[str] = []
    modes: dict[str, str] = {}
    units: dict[str, str] = {}
    from carbontwin.scenarios.definition import DRIVER_KINDS

    for p in paths.values():
        if p.spread > 0:
            p.column = len(uncertain)
            uncertain.append(p.key)
            modes[p.key] = p.mode
            if p.dist == 1:
                units[p.key] = "ln factor"
            elif p.mode == "rate":
                units[p.key] = "frac/yr"
            else:
                units[p.key] = DRIVER_KINDS[p.kind]
    for ev_c in events:
        if ev_c.spread > 0:
            ev_c.column = len(uncertain)
            uncertain.append(ev_c.key)
            modes[ev_c.key] = "event"
            units[ev_c.key] = "ln factor" if ev_c.dist == 1 else "1e4 CNY"
    prm = study.parameters
    return CompiledScenario(
        scenario=scenario,
        years=years,
        industries=list(inds),
        a0=a0,
        e1=e1,
        e2=e2,
        c0=c0,
        p0=p0,
        el0=el0,
        h0=h0,
        grid0=grid0,
        params=prm.model_dump(),
        paths=paths,
        events=events,
        uncertain=uncertain,
        modes=modes,
        units=units,
        stream=zlib.crc32(scenario.encode("utf-8")),
    )


# ----------------------------------------------------------------------------- kernel
def shifts(dist: int, spread: float, u: np.ndarray) -> np.ndarray:
    """Return the shift of a driver at quantiles ``u`` of its distribution.

    Parameters
    ----------
    dist : int
        0 normal, 1 lognormal (the shift is ``ln`` of the factor), 2 uniform, 3 triangular.
    spread : float
        Standard deviation, half-width or sigma of ``ln`` factor.
    u : numpy.ndarray
        Quantiles in [0, 1].

    Returns
    -------
    numpy.ndarray
        The additive shift (or ``ln`` of the factor for lognormal); 0 at ``u = 0.5``.

    Examples
    --------
    >>> shifts(2, 0.01, np.array([0.0, 0.5, 1.0]))
    array([-0.01,  0.  ,  0.01])
    """
    if dist in (0, 1):
        return spread * ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    if dist == 2:
        return spread * (2.0 * u - 1.0)
    lo = u < 0.5
    out = np.empty_like(u, dtype=float)
    out[lo] = spread * (np.sqrt(2.0 * u[lo]) - 1.0)
    out[~lo] = spread * (1.0 - np.sqrt(2.0 * (1.0 - u[~lo])))
    return out


def _shift(p: _Path | _Event, u: np.ndarray | None) -> np.ndarray | None:
    """Return the driver's shift per draw as a row (1, n), or ``None`` when certain."""
    if u is None or p.column < 0:
        return None
    return shifts(p.dist, p.spread, u[:, p.column])[None, :]


def _index(p: _Path, u: np.ndarray | None) -> np.ndarray:
    """``level / base`` over the years, (T, n) or (T, 1); a fresh array when uncertain."""
    d = _shift(p, u)
    if d is None:
        return p.index[:, None]
    if p.mode == "rate":
        f = np.empty((p.rate_of_year.shape[0], d.shape[1]))
        f[0] = 1.0
        r_min = float(p.rate_of_year[1:].min())
        if p.dist == 1:
            m = np.exp(d)
            np.multiply(p.rate_of_year[1:, None], m, out=f[1:])
            f[1:] += 1.0
            lowest = min(r_min * float(m.min()), r_min * float(m.max()))
        else:
            np.add(p.rate_of_year[1:, None] + 1.0, d, out=f[1:])
            lowest = r_min + float(d.min())
        if lowest <= _RATE_FLOOR:  # clip only when some draw goes below the floor
            np.maximum(f, 1.0 + _RATE_FLOOR, out=f)
        for t in range(1, f.shape[0]):  # a running product over rows beats cumprod(axis=0)
            np.multiply(f[t], f[t - 1], out=f[t])
        return f
    level = np.maximum(_level(p, u), _TINY)
    level /= p.base
    return level


def _level(p: _Path, u: np.ndarray | None) -> np.ndarray:
    """Return the driver's level over the years, (T, n) or (T, 1)."""
    d = _shift(p, u)
    if d is None:
        return p.nominal[:, None]
    if p.mode == "rate":
        return p.base * _index(p, u)
    if p.dist == 1:
        return p.base_part[:, None] + np.exp(d) * (p.nominal - p.base_part)[:, None]
    return p.nominal[:, None] + p.weight[:, None] * d


def _fresh(x: np.ndarray, shape: tuple[int, int]) -> bool:
    """Return whether ``x`` owns its data and has the full shape (safe to overwrite)."""
    return x.base is None and x.shape == shape


def _share(p: _Path, u: np.ndarray | None) -> np.ndarray:
    level = _level(p, u)
    d = _shift(p, u)
    if d is None:
        return level
    if p.mode == "values":  # the level is monotone in the shift: check the extreme draws
        ends = [float(d.min()), float(d.max())]
        if p.dist == 1:
            span = p.nominal - p.base_part
            edges = [p.base_part + np.exp(x) * span for x in ends]
        else:
            edges = [p.nominal + p.weight * x for x in ends]
        if min(e.min() for e in edges) >= 0.0 and max(e.max() for e in edges) <= 1.0:
            return level
    level = np.maximum(level, 0.0)
    return np.minimum(level, 1.0, out=level)


def evaluate(
    comp: CompiledScenario, u: np.ndarray | None = None, *, detail: bool = False
) -> dict[str, np.ndarray]:
    """Run the projection kernel for rows of driver quantiles.

    Arrays are year-major, (T, n): year ``t`` of draw ``j`` is ``[t, j]``.

    Parameters
    ----------
    comp : CompiledScenario
        The compiled scenario.
    u : numpy.ndarray, optional
        Quantiles (n, ``comp.n_uncertain``) in [0, 1] of the uncertain drivers; ``None``
        for the nominal projection (every shift 0, n = 1).
    detail : bool
        Also return the arrays by industry and scope.

    Returns
    -------
    dict of str to numpy.ndarray
        ``net_emissions_tco2e`` [tCO2e] and ``energy_tce`` [tce] park totals, (T, n) or
        (T, 1) when nothing is uncertain; with ``detail``, ``emissions_tco2e`` and
        ``energy_tce_by`` (T, n, industry, scope), ``value_added_1e4cny``,
        ``electricity_mwh``, ``captured_tco2e``, ``pv_displaced_tco2e`` (T, n, industry),
        ``sinks_tco2e``, ``pv_displaced_mwh`` and ``grid_factor_tco2_per_mwh`` (T, n).
    """
    prm = comp.params
    k_el = prm["electricity_tce_per_mwh"]
    ratio = prm["electrification_ratio"]
    paths = comp.paths
    n = 1 if u is None else u.shape[0]
    shape = (len(comp.years), n)
    energy_total = np.zeros(shape)
    el_total = np.zeros(shape)
    other = np.zeros(shape)  # scope 1 and purchased heat: emissions that do not meet the grid
    tmp = np.empty(shape)
    keep: dict[str, list[np.ndarray]] = {}

    def acc(total: np.ndarray, x: np.ndarray, coef: Any) -> None:
        """``total += x * coef`` without a temporary of the full size."""
        if np.ndim(coef) == 0 or np.shape(x) == shape or np.shape(coef) == shape:
            np.multiply(x, coef, out=tmp)
            total += tmp
        else:
            total += x * coef

    for i, ind in enumerate(comp.industries):
        a = _index(paths[f"value_added_1e4cny:{ind}"], u)
        evs = [ev for ev in comp.events if ev.industry == i]
        if evs:
            a = np.array(np.broadcast_to(a, shape) if any(ev.column >= 0 for ev in evs) else a)
            for ev in evs:
                d = _shift(ev, u)
                if d is None:
                    f: Any = 1.0 + ev.frac
                elif ev.dist == 1:
                    f = 1.0 + ev.frac * np.exp(d)
                else:
                    f = 1.0 + (ev.value_added_1e4cny + d) / ev.nominal_va
                a[ev.start :] *= np.maximum(f, 1e-12)
        ei = _index(paths[f"energy_intensity_tce_per_1e4cny:{ind}"], u)
        # multiply in place only into arrays made here (never into a compiled path)
        e = np.multiply(a, ei, out=ei) if _fresh(ei, shape) else a * ei
        ci = _index(paths[f"carbon_intensity_tco2_per_tce:{ind}"], u)
        ec = np.multiply(e, ci, out=ci) if _fresh(ci, shape) else e * ci
        x = _share(paths[f"electrification_frac:{ind}"], u)
        pr = _share(paths[f"process_reduction_frac:{ind}"], u)
        cc = _share(paths[f"ccus_capture_frac:{ind}"], u)
        e1, e2 = comp.e1[i], comp.e2[i]
        # energy = E1 e (1 - x) + E2 e + E1 e x ratio; electricity = el0 e + E1 e x ratio / k
        acc(energy_total, e, (e1 + e2) + (e1 * (ratio - 1.0)) * x if e1 else e1 + e2)
        acc(el_total, e, comp.el0[i] + (e1 * ratio / k_el) * x if e1 else comp.el0[i])
        if comp.c0[i]:
            acc(other, ec, comp.c0[i] * (1.0 - x))
        if comp.p0[i]:
            acc(other, a, comp.p0[i] * ((1.0 - pr) * (1.0 - cc)))
        if comp.h0[i]:
            acc(other, e, comp.h0[i])
        if detail:
            moved = e1 * e * x
            proc = comp.p0[i] * a * (1.0 - pr)
            keep.setdefault("a", []).append(comp.a0[i] * a)
            keep.setdefault("el", []).append(comp.el0[i] * e + moved * (ratio / k_el))
            keep.setdefault("s1", []).append(comp.c0[i] * ec * (1.0 - x) + proc * (1.0 - cc))
            keep.setdefault("heat", []).append(comp.h0[i] * e)
            keep.setdefault("e1", []).append(e1 * e - moved)
            keep.setdefault("e2", []).append(e2 * e + moved * ratio)
            keep.setdefault("cap", []).append(proc * cc)
    grid = _level(paths["grid_factor_tco2_per_mwh"], u)
    # park-wide measures: new PV (and storage for its surplus) displaces purchased power
    pv, st = paths["pv_capacity_mw"], paths["storage_capacity_mwh"]
    gen = np.maximum(_level(pv, u) - pv.base, 0.0) * prm["pv_yield_mwh_per_mw"]
    direct = gen * prm["pv_self_consumption_frac"]
    shifted = np.minimum(
        gen - direct,
        np.maximum(_level(st, u) - st.base, 0.0)
        * (prm["storage_cycles_per_yr"] * prm["storage_efficiency_frac"]),
    )
    displaced = np.minimum(direct + shifted, el_total)
    sinks = np.maximum(_level(paths["sinks_tco2e"], u), 0.0)
    el_total -= displaced
    el_total *= grid
    other += el_total
    other -= sinks
    energy_total -= displaced * k_el
    out = {"net_emissions_tco2e": other, "energy_tce": energy_total}
    if detail:
        el_total = np.sum([np.broadcast_to(v, shape) for v in keep["el"]], axis=0)

        def stack(name: str) -> np.ndarray:
            return np.stack([np.broadcast_to(v, shape) for v in keep[name]], axis=-1)

        el_i = stack("el")
        el_sum = np.broadcast_to(el_total, shape)[..., None]
        share = np.divide(el_i, el_sum, out=np.zeros_like(el_i), where=el_sum > 0)
        disp_i = share * np.broadcast_to(displaced, shape)[..., None]
        grid_b = np.broadcast_to(grid, shape)[..., None]
        s2_i = stack("heat") + (el_i - disp_i) * grid_b
        out["emissions_tco2e"] = np.stack([stack("s1"), s2_i], axis=-1)
        out["energy_tce_by"] = np.stack([stack("e1"), stack("e2") - disp_i * k_el], axis=-1)
        out["value_added_1e4cny"] = stack("a")
        out["electricity_mwh"] = el_i - disp_i
        out["captured_tco2e"] = stack("cap")
        out["pv_displaced_mwh"] = np.broadcast_to(displaced, shape)
        out["pv_displaced_tco2e"] = disp_i * grid_b
        out["sinks_tco2e"] = np.broadcast_to(sinks, shape)
        out["grid_factor_tco2_per_mwh"] = np.broadcast_to(grid, shape)
    return out


def peak(values: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the peak year, the peak value and whether a peak is reached, per row.

    Parameters
    ----------
    values : numpy.ndarray
        Emissions (..., T) over ``years`` [tCO2e].
    years : numpy.ndarray
        The years (T,) [yr].

    Returns
    -------
    peak_year : numpy.ndarray of int
        The first year of the largest value [yr].
    peak_tco2e : numpy.ndarray
        The largest value [tCO2e].
    peaked : numpy.ndarray of bool
        Whether the peak comes before the last year (a maximum in the last year of the
        horizon is not a peak: emissions may still be rising).

    Examples
    --------
    >>> year, value, peaked = peak(np.array([1.0, 3.0, 2.0]), np.array([2025, 2026, 2027]))
    >>> int(year), float(value), bool(peaked)
    (2026, 3.0, True)
    """
    idx = np.argmax(values, axis=-1)
    top = np.take_along_axis(values, idx[..., None], axis=-1)[..., 0]
    return years[idx], top, idx < values.shape[-1] - 1


# ------------------------------------------------------------------------- projection
def project(study: Study, scenarios: Sequence[str] | None = None) -> xr.Dataset:
    """Project energy and emissions of each scenario with every driver at its nominal path.

    Parameters
    ----------
    study : Study
        The study.
    scenarios : sequence of str, optional
        The scenarios to project; all by default.

    Returns
    -------
    xarray.Dataset
        Over ``scenario × year × industry × scope`` (scope 1 and 2):
        ``energy_tce`` [tce] and ``emissions_tco2e`` [tCO2e] by industry and scope,
        ``value_added_1e4cny`` [10^4 CNY], ``electricity_mwh`` (purchased, after PV) [MWh],
        ``captured_tco2e`` (CCUS) [tCO2e] and ``pv_displaced_tco2e`` by industry,
        ``sinks_tco2e`` [tCO2e], ``pv_displaced_mwh`` [MWh],
        ``grid_factor_tco2_per_mwh`` [tCO2/MWh], the park totals ``gross_emissions_tco2e``
        (scopes 1 + 2) and ``net_emissions_tco2e`` (gross − sinks) [tCO2e],
        ``total_energy_tce`` [tce], and per scenario ``peak_year`` [yr], ``peak_tco2e``
        [tCO2e] (of the net emissions) and ``peaked``.

    Examples
    --------
    >>> import yaml
    >>> from carbontwin.scenarios import demo_study_path, load_study
    >>> study = load_study(yaml.safe_load(demo_study_path().read_text(encoding="utf-8")))
    >>> ds = project(study)
    >>> ds.emissions_tco2e.dims
    ('scenario', 'year', 'industry', 'scope')
    """
    names = list(study.scenarios) if scenarios is None else list(scenarios)
    parts = []
    for name in names:
        comp = compile_scenario(study, name)
        r = evaluate(comp, None, detail=True)
        r = {k: np.moveaxis(v, 0, 1) for k, v in r.items()}  # draw first
        py, pv, ok = peak(r["net_emissions_tco2e"][0], comp.years)
        coords = {"year": comp.years, "industry": comp.industries, "scope": [1, 2]}
        yi = ("year", "industry")
        ds = xr.Dataset(
            {
                "energy_tce": (("year", "industry", "scope"), r["energy_tce_by"][0]),
                "emissions_tco2e": (("year", "industry", "scope"), r["emissions_tco2e"][0]),
                "value_added_1e4cny": (yi, r["value_added_1e4cny"][0]),
                "electricity_mwh": (yi, r["electricity_mwh"][0]),
                "captured_tco2e": (yi, r["captured_tco2e"][0]),
                "pv_displaced_tco2e": (yi, r["pv_displaced_tco2e"][0]),
                "sinks_tco2e": ("year", r["sinks_tco2e"][0]),
                "pv_displaced_mwh": ("year", r["pv_displaced_mwh"][0]),
                "grid_factor_tco2_per_mwh": ("year", r["grid_factor_tco2_per_mwh"][0]),
                "net_emissions_tco2e": ("year", r["net_emissions_tco2e"][0]),
                "total_energy_tce": ("year", r["energy_tce"][0]),
                "peak_year": ((), int(py)),
                "peak_tco2e": ((), float(pv)),
                "peaked": ((), bool(ok)),
            },
            coords=coords,
        )
        ds["gross_emissions_tco2e"] = ds.emissions_tco2e.sum(("industry", "scope"))
        parts.append(ds.expand_dims(scenario=[name]))
    out = xr.concat(parts, dim="scenario")
    out["peak_year"] = out.peak_year.astype(int)
    out["peaked"] = out.peaked.astype(bool)
    units = {
        "energy_tce": "tce",
        "emissions_tco2e": "tCO2e",
        "value_added_1e4cny": "1e4 CNY",
        "electricity_mwh": "MWh",
        "captured_tco2e": "tCO2e",
        "pv_displaced_tco2e": "tCO2e",
        "sinks_tco2e": "tCO2e",
        "pv_displaced_mwh": "MWh",
        "grid_factor_tco2_per_mwh": "tCO2/MWh",
        "net_emissions_tco2e": "tCO2e",
        "gross_emissions_tco2e": "tCO2e",
        "total_energy_tce": "tce",
        "peak_year": "yr",
        "peak_tco2e": "tCO2e",
    }
    for name, unit in units.items():
        out[name].attrs["units"] = unit
    out.attrs.update({"study": study.id, "base_year": study.base_year, "horizon": study.horizon})
    return out


# ---------------------------------------------------------------------------- STIRPAT
STIRPAT_TERMS = ("a", "b", "c", "d")


@dataclass
class StirpatFit:
    """A fitted STIRPAT model ``ln I = a + b ln P + c ln A + d ln T``.

    Attributes
    ----------
    params : pandas.Series
        ``a`` (intercept), ``b`` (population), ``c`` (affluence), ``d`` (technology)
        elasticities [1].
    conf_int : pandas.DataFrame
        Their confidence intervals (columns ``low``, ``high``) at ``1 - alpha``.
    bse : pandas.Series
        Standard errors.
    rsquared : float
        Coefficient of determination of the log model.
    nobs : int
        Years fitted.
    alpha : float
        Significance level of the intervals.
    columns : dict of str to str
        The frame columns used for I, P, A, T.
    """

    params: pd.Series
    conf_int: pd.DataFrame
    bse: pd.Series
    rsquared: float
    nobs: int
    alpha: float
    columns: dict[str, str]
    result: Any = field(repr=False)

    def predict(self, frame: pd.DataFrame, *, interval: bool = False) -> pd.DataFrame:
        """Project the impact for future P, A, T.

        Parameters
        ----------
        frame : pandas.DataFrame
            Columns as in the history (population, affluence and technology, or the
            columns they are derived from).
        interval : bool
            Also return the prediction interval at ``1 - alpha`` (``low``, ``high``).

        Returns
        -------
        pandas.DataFrame
            ``emissions_tco2e`` (the mean of ``exp`` of the log prediction, i.e. the
            median of a log-normal error) [the impact's unit], indexed like ``frame``.
        """
        x = _stirpat_design(frame, self.columns)
        pred = self.result.get_prediction(x)
        sf = pred.summary_frame(alpha=self.alpha)
        out = pd.DataFrame(
            {self.columns["impact"]: np.exp(sf["mean"].to_numpy())}, index=frame.index
        )
        if interval:
            out["low"] = np.exp(sf["obs_ci_lower"].to_numpy())
            out["high"] = np.exp(sf["obs_ci_upper"].to_numpy())
        return out


def _stirpat_design(frame: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    import statsmodels.api as sm

    def col(name: str) -> np.ndarray:
        key = cols[name]
        if key in frame:
            return frame[key].to_numpy(dtype=float)
        if name == "affluence" and {cols["gdp"], cols["population"]} <= set(frame):
            return frame[cols["gdp"]].to_numpy(dtype=float) / frame[cols["population"]].to_numpy(
                dtype=float
            )
        if name == "technology" and {cols["energy"], cols["gdp"]} <= set(frame):
            return frame[cols["energy"]].to_numpy(dtype=float) / frame[cols["gdp"]].to_numpy(
                dtype=float
            )
        msg = (
            f"column {key!r} ({name}) is missing from the frame; it has {list(frame.columns)} "
            f"(give {key!r}, or the columns it is derived from)"
        )
        raise ValidationError(msg)

    data = {}
    for term, name in zip(("b", "c", "d"), ("population", "affluence", "technology"), strict=True):
        v = col(name)
        if np.any(~(v > 0)):
            msg = f"{cols[name]} must be > 0 in every year to take its logarithm; got {v}"
            raise ValidationError(msg)
        data[term] = np.log(v)
    return sm.add_constant(pd.DataFrame(data, index=frame.index), has_constant="add").rename(
        columns={"const": "a"}
    )


def fit_stirpat(
    history: pd.DataFrame,
    *,
    impact: str = "emissions_tco2e",
    population: str = "population",
    affluence: str = "gdp_per_capita_1e4cny",
    technology: str = "energy_intensity_tce_per_1e4cny",
    gdp: str = "gdp_1e4cny",
    energy: str = "energy_tce",
    alpha: float = 0.05,
    min_years: int = 6,
) -> StirpatFit:
    """Fit the STIRPAT model ``ln I = a + b ln P + c ln A + d ln T`` by OLS.

    Parameters
    ----------
    history : pandas.DataFrame
        One row per year: the impact ``I`` (emissions) [tCO2e], population ``P``
        [persons], affluence ``A`` (GDP per person) [10^4 CNY / person] and technology
        ``T`` (energy intensity) [tce / 10^4 CNY]. ``A`` is derived from ``gdp_1e4cny /
        population`` and ``T`` from ``energy_tce / gdp_1e4cny`` when their columns are absent.
    impact, population, affluence, technology, gdp, energy : str
        Column names.
    alpha : float
        Significance level of the confidence intervals (0.05: 95 %).
    min_years : int
        The fewest years accepted (at least 4 coefficients + 2 residual degrees of freedom).

    Returns
    -------
    StirpatFit

    Raises
    ------
    ValidationError
        If the history is shorter than ``min_years``, or a column is missing or not
        positive.

    Notes
    -----
    York, Rosa and Dietz (2003) generalise IPAT to ``I = a P^b A^c T^d e``; the
    elasticities are the OLS coefficients of the log model. P, A and T of a park are
    often collinear: read the confidence intervals before the point values.

    References
    ----------
    York R., Rosa E. A., Dietz T. (2003), STIRPAT, IPAT and ImPACT, Ecological Economics
    46(3), 351–365.
    """
    import statsmodels.api as sm

    if min_years < 6:
        msg = f"min_years(={min_years}) must be >= 6: four coefficients and two residual dof"
        raise ValidationError(msg)
    n = len(history)
    if n < min_years:
        msg = (
            f"history has {n} years; STIRPAT needs at least {min_years} (four coefficients "
            "and two residual degrees of freedom); give a longer history or use the Kaya "
            "projection"
        )
        raise ValidationError(msg)
    cols = {
        "impact": impact,
        "population": population,
        "affluence": affluence,
        "technology": technology,
        "gdp": gdp,
        "energy": energy,
    }
    if impact not in history:
        msg = f"column {impact!r} (the impact) is missing; the frame has {list(history.columns)}"
        raise ValidationError(msg)
    y = history[impact].to_numpy(dtype=float)
    if np.any(~(y > 0)):
        msg = f"{impact} must be > 0 in every year to take its logarithm"
        raise ValidationError(msg)
    x = _stirpat_design(history, cols)
    res = sm.OLS(np.log(y), x).fit()
    ci = res.conf_int(alpha=alpha)
    ci.columns = ["low", "high"]
    return StirpatFit(
        params=res.params.rename("value"),
        conf_int=ci,
        bse=res.bse,
        rsquared=float(res.rsquared),
        nobs=int(res.nobs),
        alpha=alpha,
        columns=cols,
        result=res,
    )
