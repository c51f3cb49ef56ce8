"""Inventory of a large synthetic park against a bare numpy pass over the same array.

The park has 200 enterprises in 3 zones with 10 emission sources each (2,000 sources over
scopes 1–3 and 12 kinds of source) and a year of 15-min interval data, one stream per
source: 2,000 × 35,040 float64 values (561 MB). carbontwin computes the inventory and
rolls it up by day, month and year; the reference reduces the same array to days per
source with numpy, groups the sources into enterprise × scope × category cells with a
sparse matrix and sums those to months and the year.

Figures: ``seconds``, ``numpy_seconds``, ``vs_numpy``, ``peak_memory_ratio`` and
``check_max_rel_diff`` (see README.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from stdnum.cn import uscc

from benchmarks._common import Outcome, best_of, peak_traced, small_requested
from carbontwin.accounting.inventory import Inventory, compute_inventory
from carbontwin.core.park import Park, park_from_dict
from carbontwin.core.records import IntervalData
from carbontwin.core.sources import CATEGORIES

NAME = "accounting"
TARGETS = {"vs_numpy": "<= 3", "peak_memory_ratio": "<= 2", "check_max_rel_diff": "<= 1e-9"}
UNITS = {"seconds": "s", "numpy_seconds": "s"}

#: Intervals per day (15-min data) and the time zone of the synthetic park.
PER_DAY = 96
TIMEZONE = "Asia/Shanghai"
START = dt.date(2025, 1, 1)
#: Category cells per scope in the reference grouping (3 scopes × 6 = 18 per enterprise).
CELLS_PER_SCOPE = 6
ZONES = ("Z1", "Z2", "Z3")
INDUSTRIES = ("C2614", "C2651", "C3130", "C3670", "C3985", "C2710", "C1761", "D4411")


@dataclass(frozen=True)
class Size:
    """How big the synthetic park is."""

    enterprises: int
    days: int
    per_enterprise: int = 10

    @property
    def sources(self) -> int:
        return self.enterprises * self.per_enterprise

    @property
    def period(self) -> str:
        end = START + dt.timedelta(days=self.days - 1)
        if (START.month, START.day, end.month, end.day) == (1, 1, 12, 31):
            return str(START.year)
        return f"{START.isoformat()}/{end.isoformat()}"


FULL = Size(enterprises=200, days=365)
SMALL = Size(enterprises=20, days=30)


# ----------------------------------------------------------------------------- the park
def credit_code(serial: int) -> str:
    """Return a valid 18-character unified social credit code for enterprise ``serial``.

    Registration authority 9 (industry and commerce), entity type 1 (enterprise),
    division 320900, a 9-character organisation serial and the GB 32100 check character.
    """
    body = f"91320900MA{serial:07d}"
    code = body + uscc.calc_check_digit(body)
    if not uscc.is_valid(code):  # pragma: no cover - guards the construction above
        msg = f"built an invalid credit code {code!r}"
        raise AssertionError(msg)
    return code


def _sources(k: int, ent: str) -> list[dict[str, Any]]:
    """The 10 sources of enterprise number ``k``: six in scope 1, three in scope 2, one in
    scope 3. Exports alternate between electricity and heat, scope 3 between categories
    1 (purchased goods) and 4 (upstream transport); parameters vary between enterprises.
    """
    even = k % 2 == 0
    out = [
        {
            "id": f"{ent}-NG",
            "scope": 1,
            "category": "fuel_combustion",
            "method": "fuel_combustion",
            "carrier": "natural_gas",
            "name": "Gas boilers",
        },
        {
            "id": f"{ent}-DIESEL",
            "scope": 1,
            "category": "fuel_combustion",
            "type": "mobile combustion",
            "method": "fuel_combustion",
            "carrier": "diesel",
            "name": "Forklifts and trucks",
        },
        {
            "id": f"{ent}-CARB",
            "scope": 1,
            "category": "process",
            "method": "carbonates",
            "carrier": "material:limestone",
            "name": "Limestone calcination",
            "params": {"carbonate": "caco3", "purity_frac": round(0.90 + (k % 9) / 100, 2)},
        },
        {
            "id": f"{ent}-HFC",
            "scope": 1,
            "category": "fugitive",
            "method": "fugitive",
            "carrier": "gas:HFC-134a",
            "name": "Chiller refrigerant top-ups",
        },
        {
            "id": f"{ent}-WASTE",
            "scope": 1,
            "category": "waste_treatment",
            "method": "waste_incineration",
            "carrier": "material:waste",
            "name": "On-site incinerator",
            "params": {
                "carbon_frac": round(0.30 + (k % 7) / 100, 2),
                "fossil_frac": round(0.40 + (k % 5) / 100, 2),
            },
        },
        {
            "id": f"{ent}-CO2REC",
            "scope": 1,
            "category": "co2_recovery",
            "method": "co2_recovery",
            "carrier": "co2",
            "name": "CO2 sold",
            "params": {"purity_frac": round(0.95 + (k % 5) / 100, 2)},
        },
        {
            "id": f"{ent}-ELEC",
            "scope": 2,
            "category": "purchased_electricity",
            "method": "purchased_electricity",
            "carrier": "electricity",
            "name": "Grid power",
        },
        {
            "id": f"{ent}-HEAT",
            "scope": 2,
            "category": "purchased_heat",
            "method": "purchased_heat",
            "carrier": "heat",
            "name": "District heat",
        },
        {
            "id": f"{ent}-EXPORT-E",
            "scope": 2,
            "category": "exported_electricity",
            "method": "exported_electricity",
            "carrier": "electricity",
            "name": "Power sold",
        }
        if even
        else {
            "id": f"{ent}-EXPORT-H",
            "scope": 2,
            "category": "exported_heat",
            "method": "exported_heat",
            "carrier": "heat",
            "name": "Heat sold",
        },
        {
            "id": f"{ent}-S3-GOODS",
            "scope": 3,
            "category": "scope3_c01",
            "method": "scope3",
            "carrier": "other:wCNY",
            "name": "Purchased goods",
            "params": {
                "factor_tco2e_per_unit": round(0.5 + (k % 11) / 20, 3),
                "factor_source": "supplier declarations 2024",
            },
        }
        if even
        else {
            "id": f"{ent}-S3-FREIGHT",
            "scope": 3,
            "category": "scope3_c04",
            "method": "scope3",
            "carrier": "other:t*km",
            "name": "Inbound freight",
            "params": {
                "factor_tco2e_per_unit": round(1e-4 * (1 + k % 4), 6),
                "factor_source": "freight carrier declarations 2024",
            },
        },
    ]
    for s in out:
        s["enterprise"] = ent
    return out


def build_park(size: Size) -> Park:
    """Build the synthetic park (validated like any park file)."""
    enterprises, sources = [], []
    for k in range(size.enterprises):
        ent = f"E{k + 1:03d}"
        enterprises.append(
            {
                "id": ent,
                "name": f"Enterprise {k + 1}",
                "uscc": credit_code(k + 1),
                "industry": INDUSTRIES[k % len(INDUSTRIES)],
                "zone": ZONES[k % len(ZONES)],
            }
        )
        sources.extend(_sources(k, ent)[: size.per_enterprise])
    doc = {
        "park": {
            "id": "bench",
            "name": "Synthetic benchmark park",
            "timezone": TIMEZONE,
            "zones": [{"id": z, "name": f"Zone {z[1:]}"} for z in ZONES],
            "enterprises": enterprises,
            "sources": sources,
        }
    }
    return park_from_dict(doc, file="<benchmark park>")


def build_data(park: Park, size: Size, seed: int = 20250101) -> IntervalData:
    """Build the interval data: one stream per source, ``size.days`` of 15-min values."""
    index = pd.date_range(START.isoformat(), periods=size.days * PER_DAY, freq="15min", tz=TIMEZONE)
    rng = np.random.default_rng(seed)
    streams = [s.id for s in park.sources]
    return IntervalData(index=index, streams=streams, values=rng.random((len(streams), len(index))))


def group_index(park: Park) -> np.ndarray:
    """Return each source's cell in the reference grouping: (enterprise, scope, category)."""
    ent = {e.id: i for i, e in enumerate(park.enterprises)}
    cells = []
    for s in park.sources:
        slot = CATEGORIES[s.scope].index(s.category)
        if slot >= CELLS_PER_SCOPE:  # pragma: no cover - the park above never does this
            msg = f"category {s.category!r} has no cell in the reference grouping"
            raise ValueError(msg)
        cells.append((ent[s.enterprise] * 3 + (s.scope - 1)) * CELLS_PER_SCOPE + slot)
    return np.asarray(cells, dtype=np.intp)


def month_starts(size: Size) -> np.ndarray:
    """Return the index of the first day of each month in the period's days."""
    days = pd.date_range(START.isoformat(), periods=size.days, freq="D")
    return np.flatnonzero(np.r_[True, days.month[1:] != days.month[:-1]])


# ------------------------------------------------------------------------- the two passes
def carbontwin_pass(park: Park, data: IntervalData, period: str) -> tuple[Inventory, list]:
    """The measured run: the inventory, then its roll-ups by day, month and year."""
    inv = compute_inventory(park, period, intervals=data)
    return inv, [inv.dataset("day"), inv.dataset("month"), inv.dataset("year")]


def numpy_pass(
    values: np.ndarray, cells: np.ndarray, n_cells: int, months: np.ndarray
) -> tuple[np.ndarray, ...]:
    """The reference: days per source, cells per day by a sparse product, months, year."""
    n_src, n_t = values.shape
    daily = values.reshape(n_src, n_t // PER_DAY, PER_DAY).sum(axis=2)
    group = sp.csr_matrix((np.ones(n_src), (cells, np.arange(n_src))), shape=(n_cells, n_src))
    by_day = group @ daily
    by_month = np.add.reduceat(by_day, months, axis=1)
    by_year = by_day.sum(axis=1)
    return daily, by_day, by_month, by_year


def hand_check(park: Park, inv: Inventory, year_ds: Any, daily: np.ndarray) -> float:
    """Return the largest relative difference between carbontwin's yearly tCO2e per
    (enterprise, scope) and numpy's daily sums × each source's coefficient × GWP."""
    ent = {e: i for i, e in enumerate(inv.enterprises)}
    hand = np.zeros((len(inv.enterprises), 3))
    per_source = daily.sum(axis=1)
    for r in inv.term_rows:
        t = r.term
        if t.kind != "emission":
            continue
        coef = r.stretches[0].coefficient * inv.gwp[t.gas]
        hand[ent[r.source.enterprise], t.scope - 1] += per_source[r.stream_row] * coef
    got = (
        year_ds.emissions_tco2e.sum(("category", "gas"))
        .transpose("period", "enterprise", "scope")
        .values[0]
    )
    scale = np.abs(hand)
    nz = scale > 0
    if not nz.any() or np.any(got[~nz] != 0):
        return float("inf")
    return float(np.max(np.abs(got[nz] - hand[nz]) / scale[nz]))


def run(
    *, small: bool | None = None, out_dir: Path | str | None = None, repeat: int = 3
) -> Outcome:
    """Run the benchmark, write its result document and return the outcome.

    Parameters
    ----------
    small : bool, optional
        20 enterprises, 200 sources, 30 days (seconds, for tests); default from
        ``BENCH_SMALL``.
    out_dir : path, optional
        Where to write the JSON; ``benchmarks/results`` by default. A small run writes
        ``accounting-small.json`` so it never replaces the full run's figures.
    repeat : int
        Timed runs of each pass; the best counts.
    """
    small = small_requested() if small is None else small
    size = SMALL if small else FULL
    park = build_park(size)
    data = build_data(park, size)  # built once, outside every measured region
    values = data.values
    cells = group_index(park)
    n_cells = size.enterprises * 3 * CELLS_PER_SCOPE
    months = month_starts(size)

    numpy_s, ref = best_of(lambda: numpy_pass(values, cells, n_cells, months), repeat)
    daily = ref[0]
    del ref
    seconds, (inv, datasets) = best_of(lambda: carbontwin_pass(park, data, size.period), repeat)
    year_ds = datasets[-1]
    del datasets
    peak, _ = peak_traced(lambda: carbontwin_pass(park, data, size.period))
    check = hand_check(park, inv, year_ds, daily)

    shape = f"{values.shape[0]:,} × {values.shape[1]:,}"
    outcome = Outcome(
        name=NAME,
        figures={
            "seconds": seconds,
            "numpy_seconds": numpy_s,
            "vs_numpy": seconds / numpy_s,
            "peak_memory_ratio": peak / values.nbytes,
            "check_max_rel_diff": check,
        },
        targets=dict(TARGETS),
        references={
            "seconds": f"numpy pass {numpy_s:.4g} s",
            "numpy_seconds": f"reshape-sum + sparse group of {n_cells:,} cells",
            "vs_numpy": "numpy = 1",
            "peak_memory_ratio": f"input {values.nbytes / 1e6:,.0f} MB ({shape})",
            "check_max_rel_diff": "numpy daily sums × coefficient × GWP",
        },
        units=UNITS,
        notes=[
            f"{size.enterprises} enterprises, {size.sources:,} sources, {size.days} days "
            f"of 15-min data; best of {repeat}; peak traced "
            f"{peak / 1e6:,.0f} MB in one run"
        ],
    )
    outcome.write(out_dir, stem=f"{NAME}-small" if small else NAME)
    return outcome
