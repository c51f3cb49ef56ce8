"""PDCD-1, the park day-ahead economic-carbon dispatch benchmark: data and reference optima.

A faithful re-implementation of the benchmark's normative data generator (seed 20250101,
numpy ``default_rng``, draw order ``u, v, cloud, noise``), checked against the published
digests, and the mapping of one case onto carbontwin's general
:class:`~carbontwin.optimizers.DispatchProblem`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from carbontwin.optimizers import DispatchProblem

SEED = 20250101
START_DOY = 172  # day of year (0-based) of step 0; day 0 is a Monday
ETA_C = 0.95
ETA_D = 0.95
SOC_MIN, SOC_MAX, SOC0 = 0.1, 0.9, 0.5
CO2_PRICE_CNY_PER_KG = 0.10
EXPORT_PRICE = 0.20
DEG_COST = 0.02
DEMAND_CHARGE = 40.0  # per kW of peak import per 30 days
IMPORT_LIMIT_FRAC = 0.9

#: HiGHS options of the benchmark (output off is added by the tools).
HIGHS_OPTIONS = {
    "mip_rel_gap": 1e-9,
    "mip_abs_gap": 1e-9,
    "time_limit": 600.0,
    "random_seed": 0,
    "threads": 1,
}

#: name: (days, buildings, step [h])
SCALES = {
    "d1_b10": (1, 10, 0.25),
    "d1_b100": (1, 100, 0.25),
    "d7_b10": (7, 10, 0.25),
    "y1_b1": (365, 1, 1.0),
}

#: sha256 prefixes of (load, pv, price, ef, E, P) published with the benchmark.
DIGESTS = {
    "d1_b10": "e77f5a400fce241d",
    "d1_b100": "4dcddefce5634daa",
    "d7_b10": "c74c9ea00f383052",
    "y1_b1": "3659535d581e2a26",
}

#: Reference optima (HiGHS, verified by the benchmark's independent checker).
OPTIMA = {
    "d1_b10": 11486.647795974,
    "d1_b100": 131704.765544286,
    "d7_b10": 70469.294717253,
    "y1_b1": 254201.595006779,
}


def tou_price(hm: np.ndarray) -> np.ndarray:
    """Time-of-use import tariff by mid-step hour of day [CNY/kWh]."""
    valley = (hm < 8) | (hm >= 23)
    peak = ((hm >= 8) & (hm < 11)) | ((hm >= 18) & (hm < 21))
    return np.where(valley, 0.30, np.where(peak, 1.20, 0.75))


def grid_ef(hm: np.ndarray) -> np.ndarray:
    """Grid emission factor by mid-step hour [kgCO2/kWh]: night-high, solar-hours dip."""
    return (
        0.58
        + 0.08 * np.cos(2 * np.pi * (hm - 2) / 24)
        - 0.12 * np.clip(np.sin(np.pi * (hm - 6) / 12), 0, None)
    )


def make_data(days: int, n_b: int, dt: float, seed: int = SEED) -> dict:
    """The benchmark's data for ``days`` days, ``n_b`` buildings, steps of ``dt`` hours."""
    rng = np.random.default_rng(seed)
    spd = round(24 / dt)
    steps = days * spd
    t = np.arange(steps)
    day = t // spd
    hm = (t % spd) * dt + dt / 2.0
    doy = (START_DOY + day) % 365
    u = rng.uniform(0.0, 1.0, n_b)
    v = rng.uniform(0.5, 1.0, n_b)
    cloud = rng.uniform(0.4, 1.0, days)
    noise = rng.standard_normal((n_b, steps))
    peak = 50.0 + 150.0 * u
    pv_cap = 0.6 * peak * v
    e_cap = 2.0 * pv_cap
    p_max = 0.5 * e_cap
    shape_load = np.where((hm >= 6) & (hm <= 20), 0.35 + 0.65 * np.sin(np.pi * (hm - 6) / 14), 0.35)
    weekend = np.where(day % 7 >= 5, 0.6, 1.0)
    season_load = 1.0 + 0.15 * np.cos(2 * np.pi * (doy - 200) / 365)
    load = (
        peak[:, None]
        * (shape_load * weekend * season_load)[None, :]
        * np.clip(1 + 0.05 * noise, 0, None)
    )
    shape_pv = np.clip(np.sin(np.pi * (hm - 6) / 12), 0, None)
    season_pv = 0.75 + 0.25 * np.cos(2 * np.pi * (doy - 172) / 365)
    pv = pv_cap[:, None] * (shape_pv * cloud[day] * season_pv)[None, :]
    net = (load - pv).sum(axis=0)
    price = tou_price(hm)
    ef = grid_ef(hm)
    return {
        "days": days,
        "n_b": n_b,
        "T": steps,
        "dt": dt,
        "load": load,
        "pv": pv,
        "net": net,
        "price": price,
        "ef": ef,
        "e_cap": e_cap,
        "p_max": p_max,
        "soc0": SOC0 * e_cap,
        "soc_lo": SOC_MIN * e_cap,
        "soc_hi": SOC_MAX * e_cap,
        "g_imp": IMPORT_LIMIT_FRAC * float(net.max()),
        "dc": DEMAND_CHARGE * days / 30.0,
        "c_imp": price + CO2_PRICE_CNY_PER_KG * ef,
    }


def case_data(case: str) -> dict:
    """The data of a named case (``d1_b10``, ``d1_b100``, ``d7_b10``, ``y1_b1``)."""
    days, n_b, dt = SCALES[case]
    return make_data(days, n_b, dt)


def digest(d: dict) -> str:
    """sha256 prefix of the data, to compare with :data:`DIGESTS`."""
    h = hashlib.sha256()
    for k in ("load", "pv", "price", "ef", "e_cap", "p_max"):
        h.update(np.ascontiguousarray(d[k], dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def to_problem(d: dict) -> DispatchProblem:
    """The case as a carbontwin dispatch problem (carbon price 100 CNY/tCO2 = 0.10 per kg)."""
    from carbontwin.optimizers import Batteries, DispatchProblem

    return DispatchProblem(
        interval_h=d["dt"],
        load_kw=d["load"],
        pv_kw=d["pv"],
        batteries=Batteries(
            energy_kwh=d["e_cap"],
            power_kw=d["p_max"],
            charge_efficiency_frac=ETA_C,
            discharge_efficiency_frac=ETA_D,
            soc_min_frac=SOC_MIN,
            soc_max_frac=SOC_MAX,
            soc_start_frac=SOC0,
            soc_end_frac=SOC0,
            throughput_cost_cny_per_kwh=DEG_COST,
        ),
        import_price_cny_per_kwh=d["price"],
        export_price_cny_per_kwh=EXPORT_PRICE,
        grid_factor_tco2_per_mwh=d["ef"],
        carbon_price_cny_per_tco2=CO2_PRICE_CNY_PER_KG * 1000.0,
        demand_charge_cny_per_kw=d["dc"],
        import_limit_kw=d["g_imp"],
    )


def objective(d: dict, imp, exp, pc, pd, ppeak=None) -> float:
    """The benchmark's objective recomputed from a solution (independent of the tool)."""
    if ppeak is None:
        ppeak = float(np.max(imp))
    return float(
        d["dt"] * (d["c_imp"] @ imp - EXPORT_PRICE * exp.sum() + DEG_COST * (pc.sum() + pd.sum()))
        + d["dc"] * ppeak
    )


def max_violation(d: dict, imp, exp, pc, pd, soc, relax: bool = False) -> float:
    """The benchmark's largest absolute constraint violation of a solution [kW or kWh]."""
    dt = d["dt"]
    v = [np.abs(imp - exp - (pc - pd).sum(0) - d["net"]).max()]
    prev = np.concatenate([d["soc0"][:, None], soc[:, :-1]], axis=1)
    v.append(np.abs(soc - prev - dt * (ETA_C * pc - pd / ETA_D)).max())
    v.append(np.abs(soc[:, -1] - d["soc0"]).max())
    v.append(max(0.0, (d["soc_lo"][:, None] - soc).max(), (soc - d["soc_hi"][:, None]).max()))
    v.append(max(0.0, (imp - d["g_imp"]).max(), -imp.min(), -exp.min(), -pc.min(), -pd.min()))
    v.append(max(0.0, (pc - d["p_max"][:, None]).max(), (pd - d["p_max"][:, None]).max()))
    if not relax:
        v.append(float(np.minimum(pc, pd).max()))
    return float(max(v))
