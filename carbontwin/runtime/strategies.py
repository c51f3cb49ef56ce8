"""Control strategies: proposed by the dispatch optimiser, decided on, dispatched, verified.

A *strategy* is a setpoint schedule for a local day at 15-min steps, with what it is
expected to cost and emit against the rule-based baseline, and the reasons in plain words
(en, zh). It moves through ``proposed → accepted | rejected → dispatched | advised →
verified`` (:mod:`carbontwin.store.strategies`):

- :func:`propose_day_ahead` forecasts each battery site's load for the day from the
  stored history (the enterprise's grid import with the battery's own charge and
  discharge taken out, hourly gradient boosting from :mod:`carbontwin.forecasting`, each
  hour's mean held over its quarter-hours), solves the day-ahead dispatch
  (:func:`carbontwin.optimizers.solve`: tariff, carbon price on the grid factor of the
  park's accounting, the demand charge on any rise above the month's peak so far) and the
  baseline (:func:`carbontwin.optimizers.baseline_rule`: charge in the valley, discharge
  at the peak) on the same forecast, and stores the proposal;
- :func:`decide` — an energy manager accepts or rejects it, with a comment;
- :func:`dispatch` — an accepted dispatch strategy starts; :func:`issue_due` issues the
  setpoint of the quarter-hour in force (every 15 min, by the live runtime or
  ``carbontwin strategy run``), through the setpoints the park's integrations fetch;
  advice is pushed to operators instead (:func:`advise`), with no setpoints;
- :func:`verify` — after the day, the measured import, peak, cost and emissions of the
  sites from the stored history, against the plan and the baseline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carbontwin.accounting.factors import FactorLibrary
from carbontwin.core.assets import Battery, GridConnection
from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.park import Park
from carbontwin.forecasting import GradientBoosting
from carbontwin.optimizers import Batteries, DispatchProblem, baseline_rule, solve
from carbontwin.optimizers.check import costs
from carbontwin.runtime.control import issue_setpoints
from carbontwin.runtime.forecast import FIRST_DAY, LAST_DAY, park_weather
from carbontwin.runtime.simulate import HISTORY_S, history_series
from carbontwin.store import Store
from carbontwin.twin.tariff import tou_price_cny_per_kwh

__all__ = [
    "STEP_S",
    "BatterySite",
    "advise",
    "battery_sites",
    "decide",
    "dispatch",
    "issue_due",
    "propose_day_ahead",
    "site_load_kw",
    "verify",
]

#: Step of a strategy's schedule [s].
STEP_S = 900
#: Days of history the site forecasts are fitted on.
HISTORY_DAYS = 42


@dataclass(frozen=True)
class BatterySite:
    """A battery and the grid connection of its enterprise.

    Attributes
    ----------
    battery : Battery
        The asset.
    enterprise : str
        Its enterprise.
    import_points : tuple of str
        Energy points of the enterprise's grid import (registers or interval meters).
    charge_point, discharge_point : str or None
        The battery's charge and discharge energy meters.
    soc_point : str or None
        Its state-of-charge meter [%].
    """

    battery: Battery
    enterprise: str
    import_points: tuple[str, ...]
    charge_point: str | None
    discharge_point: str | None
    soc_point: str | None

    @property
    def setpoint(self) -> str:
        """The setpoint that drives it (``<asset>.power_kw``, discharge positive)."""
        return f"{self.battery.id}.power_kw"


def battery_sites(park: Park) -> list[BatterySite]:
    """Return the park's batteries with their enterprise's grid import meters."""
    kinds = {p.id: p.kind for p in park.points}
    out = []
    for b in park.assets:
        if not isinstance(b, Battery) or not b.enterprise:
            continue
        imports = tuple(
            pid
            for g in park.assets
            if isinstance(g, GridConnection) and g.enterprise == b.enterprise
            for pid, role in g.meters.items()
            if role == "import" and kinds.get(pid) in ("cumulative", "interval")
        )
        if not imports:
            continue
        roles = {role: pid for pid, role in b.meters.items()}
        out.append(
            BatterySite(
                b,
                b.enterprise,
                imports,
                roles.get("charge"),
                roles.get("discharge"),
                roles.get("soc"),
            )
        )
    return out


def _local_index(park: Park, start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    first = pd.Timestamp(start).tz_localize(park.timezone)
    stop = pd.Timestamp(end + dt.timedelta(days=1)).tz_localize(park.timezone)
    return pd.date_range(first, stop, freq=f"{HISTORY_S}s", inclusive="left")


def _history_kwh(
    store: Store, park: Park, point: str | None, index: pd.DatetimeIndex
) -> np.ndarray:
    """Return a point's stored 15-min amounts on ``index`` [kWh], zero where none is."""
    out = np.zeros(len(index))
    if point is None:
        return out
    from carbontwin.core.units import conversion_factor

    unit = next(p.unit for p in park.points if p.id == point)
    factor = conversion_factor(unit, "kWh")
    base = index.as_unit("ms").asi8
    lo, hi = int(base[0]), int(base[-1]) + HISTORY_S * 1000
    for ts, value, _ in store.readings(history_series(point), lo, hi):
        pos = (ts - base[0]) // (HISTORY_S * 1000)
        if 0 <= pos < len(out):
            out[pos] += value * factor
    return out


def site_load_kw(
    store: Store, park: Park, site: BatterySite, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Return a site's stored 15-min history, local days ``start``..``end`` [kW].

    Columns ``import_kw`` (the grid import as metered), ``battery_kw`` (discharge less
    charge) and ``load_kw`` (import plus the battery's net discharge: what the site draws
    before its battery acts), means over each quarter-hour, indexed by local start.
    """
    index = _local_index(park, start, end)
    per_h = 3600.0 / HISTORY_S
    imp = sum(
        (_history_kwh(store, park, p, index) for p in site.import_points), np.zeros(len(index))
    )
    bat = _history_kwh(store, park, site.discharge_point, index) - _history_kwh(
        store, park, site.charge_point, index
    )
    return pd.DataFrame(
        {"import_kw": imp * per_h, "battery_kw": bat * per_h, "load_kw": (imp + bat) * per_h},
        index=index,
    )


def _forecast_load_kw(store: Store, park: Park, site: BatterySite, day: dt.date) -> np.ndarray:
    """Return the site's load forecast for ``day`` at 15-min steps [kW] (hourly GBM)."""
    start = day - dt.timedelta(days=HISTORY_DAYS)
    hist = site_load_kw(store, park, site, start, day - dt.timedelta(days=1))["load_kw"]
    hourly = (hist.resample("h").mean()).rename("energy_kwh")
    stored = int((hourly.resample("D").sum() > 0).sum())
    if stored < HISTORY_DAYS:
        msg = (
            f"the store holds {stored} day(s) of {site.enterprise}'s grid history in the "
            f"{HISTORY_DAYS} days before {day}; a strategy needs at least "
            f"{HISTORY_DAYS} (run 'carbontwin demo' or ingest more history)"
        )
        raise ValidationError(msg)
    origin = pd.Timestamp(day).tz_localize(park.timezone)
    full = pd.date_range(
        hourly.index[0], origin + pd.Timedelta(hours=24), freq="h", inclusive="left"
    )
    weather = park_weather(park, full)
    model = GradientBoosting(horizon="24h", country="CN", calibration="7D")
    model.fit(hourly, weather.loc[hourly.index])
    frame = model.predict(origin, "24h", weather, history=hourly)
    return np.repeat(np.maximum(frame["forecast"].to_numpy(dtype=float), 0.0), 3600 // STEP_S)


def _month_peak_kw(store: Store, park: Park, site: BatterySite, day: dt.date) -> float:
    """Return the site's highest 15-min import in ``day``'s month before ``day`` [kW]."""
    first = day.replace(day=1)
    if first == day:
        return 0.0
    hist = site_load_kw(store, park, site, first, day - dt.timedelta(days=1))
    return float(hist["import_kw"].max()) if len(hist) else 0.0


def _soc_start_frac(store: Store, park: Park, site: BatterySite, at: pd.Timestamp) -> float:
    """Return the battery's last stored state of charge before ``at`` [frac]."""
    if site.soc_point:
        hi = int(at.value // 1_000_000)
        rows = store.readings(site.soc_point, hi - 6 * 3600 * 1000, hi)
        if rows:
            return float(np.clip(rows[-1][1] / 100.0, 0.0, 1.0))
    return float(site.battery.initial_soc_frac)


def _grid_factor_tco2_per_mwh(park: Park) -> float:
    acc = park.accounting
    return float(FactorLibrary.builtin().get(acc.grid_factor, acc.factor_set, acc.gwp_set).value)


def _steps_index(park: Park, day: dt.date) -> pd.DatetimeIndex:
    start = pd.Timestamp(day).tz_localize(park.timezone)
    return pd.date_range(start, periods=86_400 // STEP_S, freq=f"{STEP_S}s")


def _stored_value_cny_per_kwh(problem: DispatchProblem) -> float:
    """Return what a kWh left in the battery at the end is worth [CNY/kWh].

    It spares buying that kWh again at the horizon's cheapest price (with its carbon
    price), through the charge losses.
    """
    cost = problem.import_cost_cny_per_kwh
    eta = float(np.asarray(problem.batteries.charge_efficiency_frac).ravel()[0])
    return float(np.min(cost)) / eta


def _solve_with_end_value(problem: DispatchProblem, value: float) -> Any:
    """Solve with the end state of charge chosen by the value of stored energy.

    The day's cost minus ``value`` × the energy left is convex in the end state of charge
    (an LP's optimal value is convex in its right-hand side), so a golden-section search
    over the SOC band finds the best end state to a ten-thousandth of the capacity.
    """
    bat = problem.batteries
    lo, hi = float(np.ravel(bat.soc_min_frac)[0]), float(np.ravel(bat.soc_max_frac)[0])
    cap = float(np.ravel(bat.energy_kwh)[0])
    kept: dict[float, Any] = {}

    def run(frac: float) -> float:
        if frac not in kept:
            b = dataclasses.replace(bat, soc_end_frac=np.array([frac]))
            kept[frac] = solve(problem.replace(batteries=b))
        return kept[frac].objective_cny - value * frac * cap

    g = (np.sqrt(5.0) - 1.0) / 2.0
    a, d = lo, hi
    b_, c = d - g * (d - a), a + g * (d - a)
    while d - a > 1e-4:
        if run(b_) <= run(c):
            d, c = c, b_
            b_ = d - g * (d - a)
        else:
            a, b_ = b_, c
            c = a + g * (d - a)
    best = min([lo, hi, (a + d) / 2.0], key=run)
    return kept[best]


def _summary(
    problem: DispatchProblem,
    arrays: dict[str, np.ndarray],
    soc_end_kwh: float,
    value: float,
    floor_kw: float,
    factor: float,
) -> dict[str, float]:
    """Return the figures of a schedule: the day's cost less the value of what is left.

    ``demand_charge_cny`` is the charge on the rise of the month's peak above
    ``floor_kw`` (what this day adds); ``stored_value_cny`` the energy left in the
    battery at the end valued at ``value``; ``cost_cny`` = energy + carbon + demand
    charge + throughput − export revenue − stored value.
    """
    peak = float(arrays["import_kw"].max())
    part = costs(
        problem,
        arrays["import_kw"],
        arrays["export_kw"],
        arrays["charge_kw"],
        arrays["discharge_kw"],
        max(peak, floor_kw),
    )
    rise = problem.demand_charge_cny_per_kw * max(0.0, peak - floor_kw)
    stored = value * float(soc_end_kwh)
    import_kwh = float(arrays["import_kw"].sum() * problem.interval_h)
    return {
        "cost_cny": part["objective_cny"] - part["demand_charge_cny"] + rise - stored,
        "energy_cny": part["energy_cny"],
        "demand_charge_cny": rise,
        "carbon_cny": part["carbon_cny"],
        "stored_value_cny": stored,
        "soc_end_kwh": float(soc_end_kwh),
        "import_kwh": import_kwh,
        "emissions_tco2e": import_kwh / 1000.0 * factor,
        "peak_kw": peak,
    }


def _hours_text(index: pd.DatetimeIndex, on: np.ndarray) -> str:
    """``00:00–08:00, 11:00–12:30``: the local spans where ``on`` holds."""
    spans, start = [], None
    for i, flag in enumerate([*on.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            a = index[start].strftime("%H:%M")
            b = (index[0] + pd.Timedelta(seconds=STEP_S * i)).strftime("%H:%M")
            spans.append(f"{a}–{'24:00' if b == '00:00' and i else b}")
            start = None
    return ", ".join(spans)


def _reasons(
    site: BatterySite,
    index: pd.DatetimeIndex,
    plan: dict[str, float],
    base: dict[str, float],
    charge: np.ndarray,
    discharge: np.ndarray,
    price: np.ndarray,
    floor_kw: float,
) -> tuple[list[str], list[str]]:
    h = STEP_S / 3600.0
    ch_kwh, dis_kwh = float(charge.sum() * h), float(discharge.sum() * h)
    ch_on, dis_on = charge > 1e-6, discharge > 1e-6
    ch_price = float(np.average(price, weights=charge)) if ch_kwh > 0 else 0.0
    dis_price = float(np.average(price, weights=discharge)) if dis_kwh > 0 else 0.0
    saving = base["cost_cny"] - plan["cost_cny"]
    saved_t = base["emissions_tco2e"] - plan["emissions_tco2e"]
    b = site.battery.id
    en = [
        (
            f"{b}: charge {ch_kwh:,.0f} kWh at {ch_price:.2f} CNY/kWh on average "
            f"({_hours_text(index, ch_on)}) and discharge {dis_kwh:,.0f} kWh at "
            f"{dis_price:.2f} CNY/kWh ({_hours_text(index, dis_on)})."
            if ch_kwh > 0 or dis_kwh > 0
            else f"{b}: rest all day; no price gap pays for the battery's losses."
        ),
        (
            f"Expected cost {plan['cost_cny']:,.0f} CNY against {base['cost_cny']:,.0f} CNY "
            f"for the rule-based schedule (charge in the valley, discharge at the peak): "
            f"{saving:,.0f} CNY {'saved' if saving >= 0 else 'more'}."
        ),
        (
            f"Peak import {plan['peak_kw']:,.0f} kW (baseline {base['peak_kw']:,.0f} kW; "
            f"the month's peak so far {floor_kw:,.0f} kW, above which the demand charge "
            f"applies)."
        ),
        (
            f"Grid emissions {plan['emissions_tco2e']:,.2f} t CO2e "
            f"({-saved_t:+,.2f} t against the baseline: the battery's losses)."
        ),
    ]
    zh = [
        (
            f"{b}：平均以 {ch_price:.2f} 元/kWh 充电 {ch_kwh:,.0f} kWh"
            f"（{_hours_text(index, ch_on)}），以 {dis_price:.2f} 元/kWh 放电 "
            f"{dis_kwh:,.0f} kWh（{_hours_text(index, dis_on)}）。"
            if ch_kwh > 0 or dis_kwh > 0
            else f"{b}：全天不充放电，峰谷价差不足以弥补储能损耗。"
        ),
        (
            f"预计费用 {plan['cost_cny']:,.0f} 元，按规则运行（谷充峰放）为 "
            f"{base['cost_cny']:,.0f} 元：{'节省' if saving >= 0 else '多出'} "
            f"{abs(saving):,.0f} 元。"
        ),
        (
            f"最大需量 {plan['peak_kw']:,.0f} kW（基准 {base['peak_kw']:,.0f} kW；本月至今最大需量 "
            f"{floor_kw:,.0f} kW，超过部分计收需量电费）。"
        ),
        (
            f"电网排放 {plan['emissions_tco2e']:,.2f} tCO2e（较基准 {-saved_t:+,.2f} t，"
            f"为储能损耗）。"
        ),
    ]
    return en, zh


def propose_day_ahead(
    store: Store,
    park: Park,
    day: dt.date | str,
    *,
    actor: str,
    mode: str = "dispatch",
    client: str = "",
) -> dict[str, Any]:
    """Propose the day-ahead schedule of the park's batteries for local ``day``.

    Raises
    ------
    ValidationError
        If the park has no battery at a metered grid connection, or the store holds too
        little history before ``day`` to forecast it.
    """
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    if not FIRST_DAY <= day <= LAST_DAY:
        msg = f"day {day} is outside {FIRST_DAY}..{LAST_DAY}; plan a day of the park's life"
        raise ValidationError(msg)
    if mode not in ("dispatch", "advice"):
        msg = f"mode {mode!r} is not dispatch or advice"
        raise ValidationError(msg)
    sites = battery_sites(park)
    if not sites:
        msg = f"park {park.id} has no battery at a metered grid connection to plan"
        raise ValidationError(msg)
    index = _steps_index(park, day)
    tariff = park.twin.tariff
    price = tou_price_cny_per_kwh(
        tariff, (index.hour + index.minute / 60.0).to_numpy(), index.month.to_numpy()
    )
    factor = _grid_factor_tco2_per_mwh(park)
    schedule: dict[str, list[float]] = {}
    totals = {"plan": {}, "baseline": {}}
    sites_out, reasons_en, reasons_zh, solver = [], [], [], []
    for site in sites:
        load = _forecast_load_kw(store, park, site, day)
        floor = _month_peak_kw(store, park, site, day)
        b = site.battery
        soc0 = min(
            max(_soc_start_frac(store, park, site, index[0]), b.soc_min_frac), b.soc_max_frac
        )
        problem = DispatchProblem(
            interval_h=STEP_S / 3600.0,
            load_kw=load[None, :],
            pv_kw=np.zeros((1, len(load))),
            batteries=Batteries(
                energy_kwh=np.array([b.energy_kwh]),
                power_kw=np.array([b.power_kw]),
                charge_efficiency_frac=b.charge_efficiency_frac,
                discharge_efficiency_frac=b.discharge_efficiency_frac,
                soc_min_frac=b.soc_min_frac,
                soc_max_frac=b.soc_max_frac,
                soc_start_frac=soc0,
                soc_end_frac=soc0,
            ),
            import_price_cny_per_kwh=price,
            export_price_cny_per_kwh=tariff.export_price_cny_per_kwh,
            grid_factor_tco2_per_mwh=np.full(len(load), factor),
            carbon_price_cny_per_tco2=tariff.carbon_price_cny_per_tco2,
            demand_charge_cny_per_kw=tariff.demand_charge_cny_per_kw_month,
            export_limit_kw=0.0,
            peak_floor_kw=floor,
        )
        value = _stored_value_cny_per_kwh(problem)
        result = _solve_with_end_value(problem, value)
        plan_arrays = {
            "import_kw": result.import_kw,
            "export_kw": result.export_kw,
            "charge_kw": result.charge_kw,
            "discharge_kw": result.discharge_kw,
        }
        base_arrays = baseline_rule(problem)
        plan = _summary(problem, plan_arrays, result.soc_kwh[0, -1], value, floor, factor)
        base = _summary(problem, base_arrays, base_arrays["soc_kwh"][0, -1], value, floor, factor)
        net = result.discharge_kw[0] - result.charge_kw[0]
        schedule[site.setpoint] = [round(float(v), 3) for v in net]
        for key in ("plan", "baseline"):
            src = plan if key == "plan" else base
            for k, v in src.items():
                agg = totals[key]
                agg[k] = max(agg.get(k, 0.0), v) if k == "peak_kw" else agg.get(k, 0.0) + v
        en, zh = _reasons(
            site,
            index,
            plan,
            base,
            result.charge_kw[0],
            result.discharge_kw[0],
            price,
            floor,
        )
        reasons_en += en
        reasons_zh += zh
        sites_out.append(
            {
                "battery": b.id,
                "enterprise": site.enterprise,
                "load_forecast_kw": [round(float(v), 2) for v in load],
                "soc_kwh": [round(float(v), 2) for v in result.soc_kwh[0]],
                "plan": plan,
                "baseline": base,
                "baseline_kw": [
                    round(float(v), 3)
                    for v in base_arrays["discharge_kw"][0] - base_arrays["charge_kw"][0]
                ],
                "month_peak_kw": floor,
            }
        )
        solver.append(
            {
                "battery": b.id,
                "status": result.stats.status,
                "seconds": round(result.stats.total_s, 4),
                "binaries": int(result.stats.num_binaries),
                "max_violation": None if result.check is None else result.check.max_violation,
            }
        )
    saving = {
        k: totals["baseline"][k] - totals["plan"][k]
        for k in ("cost_cny", "import_kwh", "emissions_tco2e", "peak_kw")
    }
    return store.add_strategy(
        park.id,
        {
            "mode": mode,
            "title": f"Day-ahead battery schedule for {day.isoformat()}",
            "start": index[0].tz_convert("UTC").to_pydatetime(),
            "interval_s": STEP_S,
            "steps": len(index),
            "schedule": schedule,
            "expected": {**totals, "saving": saving, "sites": sites_out, "day": day.isoformat()},
            "reasons": {"en": reasons_en, "zh": reasons_zh},
            "solver": {"sites": solver, "grid_factor_tco2_per_mwh": factor},
        },
        actor=actor,
        client=client,
    )


def decide(
    store: Store,
    strategy_id: int,
    *,
    accept: bool,
    actor: str,
    comment: str = "",
    client: str = "",
) -> dict[str, Any]:
    """Accept or reject a proposed strategy (rejecting needs a comment)."""
    status = "accepted" if accept else "rejected"
    return store.move_strategy(strategy_id, status, actor=actor, comment=comment, client=client)


def _step_at(strategy: dict[str, Any], now: dt.datetime) -> int | None:
    """Return the schedule step in force at ``now``, or None outside the horizon."""
    offset = (now - strategy["start"]).total_seconds()
    step = int(offset // strategy["interval_s"])
    return step if 0 <= step < strategy["steps"] else None


def dispatch(
    store: Store,
    park: Park,
    strategy_id: int,
    *,
    actor: str,
    now: dt.datetime | None = None,
    client: str = "",
) -> dict[str, Any]:
    """Start an accepted dispatch strategy and issue the setpoints due now.

    Raises
    ------
    ConsistencyError
        If the strategy is not accepted, is advice, or its day is over.
    """
    now = now or dt.datetime.now(dt.UTC)
    s = store.strategy(strategy_id)
    end = s["start"] + dt.timedelta(seconds=s["interval_s"] * s["steps"])
    if now >= end and s["status"] == "accepted":
        msg = f"strategy {strategy_id}'s horizon ended at {end.isoformat()}; propose a new one"
        raise ConsistencyError(msg)
    if s["mode"] == "dispatch" and s["status"] == "accepted":
        ids = _issue(store, park, s, now, actor=actor, client=client)
    else:
        ids = []
    return store.move_strategy(
        strategy_id, "dispatched", actor=actor, setpoints=ids, client=client, now=now
    )


def advise(store: Store, strategy_id: int, *, actor: str, client: str = "") -> dict[str, Any]:
    """Push an accepted advice strategy to the operators (no setpoints are issued)."""
    return store.move_strategy(strategy_id, "advised", actor=actor, client=client)


def _issue(
    store: Store,
    park: Park,
    strategy: dict[str, Any],
    now: dt.datetime,
    *,
    actor: str,
    client: str = "",
) -> list[int]:
    step = _step_at(strategy, now)
    if step is None:
        return []
    left = strategy["start"] + dt.timedelta(seconds=strategy["interval_s"] * (step + 1)) - now
    commands = [
        {
            "setpoint": name,
            "value": values[step],
            "valid_for_s": max(1.0, left.total_seconds()),
            "reason": f"strategy {strategy['id']} step {step}",
            "strategy": str(strategy["id"]),
        }
        for name, values in strategy["schedule"].items()
    ]
    issued = issue_setpoints(store, park, commands, actor=actor, client=client, now=now)
    return [int(r["id"]) for r in issued]


def issue_due(
    store: Store, park: Park, *, actor: str = "strategy-runner", now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Issue the setpoints of every dispatched strategy for the quarter-hour in force.

    A step is issued once: a strategy whose setpoints already include that step's are
    left alone. Returns the setpoints issued.
    """
    now = now or dt.datetime.now(dt.UTC)
    out = []
    for s in store.strategies(park.id, status=["dispatched"]):
        step = _step_at(s, now)
        if step is None:
            continue
        tag = f"strategy {s['id']} step {step}"
        mine = [
            r
            for r in store.setpoints(park.id, points=list(s["schedule"]))
            if r["strategy"] == str(s["id"])
        ]
        if any(r["reason"] == tag for r in mine):
            continue
        ids = _issue(store, park, s, now, actor=actor)
        store.add_strategy_setpoints(s["id"], ids)
        out += [r for r in store.setpoints(park.id, points=list(s["schedule"])) if r["id"] in ids]
    return out


def verify(
    store: Store,
    park: Park,
    strategy_id: int,
    *,
    actor: str,
    now: dt.datetime | None = None,
    client: str = "",
) -> dict[str, Any]:
    """Record a strategy's measured effect once its day is over.

    The sites' stored 15-min history over the strategy's horizon gives the measured
    import, peak, energy cost and grid emissions; they are kept with their differences
    from the plan and the baseline.

    Raises
    ------
    ConsistencyError
        If the horizon has not ended yet, or no history of it is stored.
    """
    now = now or dt.datetime.now(dt.UTC)
    s = store.strategy(strategy_id)
    end = s["start"] + dt.timedelta(seconds=s["interval_s"] * s["steps"])
    if now < end:
        msg = f"strategy {strategy_id} runs until {end.isoformat()}; verify it after"
        raise ConsistencyError(msg)
    day = dt.date.fromisoformat(s["expected"]["day"])
    index = _steps_index(park, day)
    price = tou_price_cny_per_kwh(
        park.twin.tariff, (index.hour + index.minute / 60.0).to_numpy(), index.month.to_numpy()
    )
    factor = float(s["solver"].get("grid_factor_tco2_per_mwh", _grid_factor_tco2_per_mwh(park)))
    wanted = {x["battery"] for x in s["expected"].get("sites", [])}
    sites = [x for x in battery_sites(park) if x.battery.id in wanted]
    h = STEP_S / 3600.0
    measured: dict[str, Any] = {"sites": []}
    imp_total = np.zeros(len(index))
    for site in sites:
        hist = site_load_kw(store, park, site, day, day)
        imp = hist["import_kw"].to_numpy()
        if not imp.any():
            msg = f"no stored history of {site.enterprise}'s grid import on {day}; verify later"
            raise ConsistencyError(msg)
        imp_total += imp
        measured["sites"].append(
            {
                "battery": site.battery.id,
                "import_kwh": float(imp.sum() * h),
                "peak_kw": float(imp.max()),
                "battery_kw": [round(float(v), 3) for v in hist["battery_kw"].to_numpy()],
            }
        )
    import_kwh = float(imp_total.sum() * h)
    m = {
        "import_kwh": import_kwh,
        "energy_cny": float((imp_total * price).sum() * h),
        "emissions_tco2e": import_kwh / 1000.0 * factor,
        "peak_kw": float(imp_total.max()),
    }
    measured.update(m)
    for ref in ("plan", "baseline"):
        exp = s["expected"].get(ref, {})
        measured[f"vs_{ref}"] = {k: m[k] - float(exp.get(k, 0.0)) for k in m if k in exp}
    return store.move_strategy(
        strategy_id, "verified", actor=actor, measured=measured, client=client, now=now
    )


def strategy_rows(strategies: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return one summary row per strategy (for lists and tables)."""
    rows = []
    for s in strategies:
        exp = s.get("expected") or {}
        rows.append(
            {
                "id": s["id"],
                "status": s["status"],
                "mode": s["mode"],
                "title": s["title"],
                "start": s["start"],
                "cost_cny": (exp.get("plan") or {}).get("cost_cny"),
                "saving_cny": (exp.get("saving") or {}).get("cost_cny"),
                "decided_by": s.get("decided_by"),
            }
        )
    return rows
