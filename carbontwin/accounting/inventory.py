"""The park's energy and GHG inventory, traceable to every activity number and factor.

:func:`compute_inventory` turns activity (metered interval data and ledger entries) into
daily emissions per source, then groups them by enterprise, scope, category and gas. The
work is vectorised: activity is one array (streams × days), each methodology contributes
coefficients per unit of activity for stretches of days with constant factors, and the
grouping is a sparse matrix product. Roll-ups to any period are another sparse product.

Examples
--------
>>> import datetime as dt
>>> from carbontwin.core import load_park, demo_park_path
>>> from carbontwin.core.records import ActivityEntry
>>> park = load_park(demo_park_path())
>>> gas = ActivityEntry(source="E03-NG-BOILER", start=dt.date(2025, 1, 1),
...                     end=dt.date(2025, 1, 31), quantity=10.0, unit="wNm3")
>>> inv = compute_inventory(park, "2025-01", entries=[gas])
>>> ds = inv.dataset("day")
>>> ds.emissions_tco2e.dims
('period', 'enterprise', 'scope', 'category', 'gas')
>>> round(float(ds.emissions_tco2e.sum()), 6)  # 10 × 389.31 × 0.0153 × 0.99 × 44/12
216.218881
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import xarray as xr

from carbontwin.accounting.factors import FactorLibrary, factor_unit
from carbontwin.accounting.methods import EnergyTerm, MethodContext, Term, get_method
from carbontwin.accounting.methods.plant import plant_supply_factors
from carbontwin.core.carriers import GASES, carrier
from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.park import Enterprise, Park
from carbontwin.core.records import ActivityEntry, FactorOverride, IntervalData, stream_key
from carbontwin.core.sources import CATEGORIES, EmissionSource
from carbontwin.core.time import Period, day_edges, parse_period, period_groups
from carbontwin.core.units import conversion_factor

__all__ = ["SCHEMA", "Inventory", "compute_inventory"]

#: Identifier of the inventory's JSON shape (docs/accounting.md).
SCHEMA = "carbontwin.inventory/1"


@dataclass(slots=True)
class _Stretch:
    """Coefficients of one term over days ``a`` to ``b - 1`` (indices into the days)."""

    row: int
    a: int
    b: int
    coefficient: float
    factors: tuple[str, ...]
    formula: str


@dataclass(slots=True)
class _TermRow:
    source: EmissionSource
    stream_row: int
    term: Term
    stretches: list[_Stretch] = field(default_factory=list)


@dataclass(slots=True)
class _EnergyRow:
    source: EmissionSource
    stream_row: int
    term: EnergyTerm


INSTRUMENTS = ("green_power", "gec", "ccer", "self_generated")
USES = ("consumption", "export", "feedstock", "renewable")


@dataclass(frozen=True)
class _Group:
    """Rows ``cols`` summed into flat cells ``cells[inverse]`` of a dense result."""

    cells: np.ndarray
    inverse: np.ndarray
    cols: np.ndarray

    @classmethod
    def of(cls, flat: list[int], cols: list[int]) -> _Group:
        cells, inverse = np.unique(np.array(flat, dtype=np.intp), return_inverse=True)
        return cls(cells, inverse.astype(np.intp), np.array(cols, dtype=np.intp))


@dataclass
class _Layout:
    """The dense result arrays' coordinates, and which rows feed which cells."""

    categories: list[str]
    gases: list[str]
    carriers: list[str]
    emission: _Group
    offset: _Group
    avoided: _Group
    energy: _Group

    @classmethod
    def build(cls, inv: Inventory) -> _Layout:
        rows = inv.term_rows
        ent_index = {e: i for i, e in enumerate(inv.enterprises)}
        emission = [r.term.kind == "emission" for r in rows]
        present3 = sorted(
            {
                r.term.category
                for r, e in zip(rows, emission, strict=True)
                if e and r.term.scope == 3
            }
        )
        categories = [*CATEGORIES[1], *CATEGORIES[2], *present3]
        # CO2 always, then the other gases present, in the order of the gas list.
        present_gases = {r.term.gas for r, e in zip(rows, emission, strict=True) if e}
        order = {g: i for i, g in enumerate((*GASES, "CO2e"))}
        gases = ["CO2", *sorted(present_gases - {"CO2"}, key=lambda g: order.get(g, 99))]
        cat_index = {c: i for i, c in enumerate(categories)}
        gas_index = {g: i for i, g in enumerate(gases)}
        n_c, n_g = len(categories), len(gases)
        inst_index = {k: i for i, k in enumerate(INSTRUMENTS)}
        parts: dict[str, tuple[list[int], list[int]]] = {
            "emission": ([], []),
            "offset": ([], []),
            "avoided": ([], []),
        }
        for i, r in enumerate(rows):
            t, e = r.term, ent_index[r.source.enterprise]
            flat, cols = parts[t.kind]
            cols.append(i)
            if t.kind == "emission":
                flat.append(
                    ((e * 3 + (t.scope - 1)) * n_c + cat_index[t.category]) * n_g + gas_index[t.gas]
                )
            else:
                flat.append(e * len(INSTRUMENTS) + inst_index[t.instrument])
        carriers = sorted({r.term.carrier for r in inv.energy_rows})
        car_index = {c: i for i, c in enumerate(carriers)}
        use_index = {u: i for i, u in enumerate(USES)}
        eflat = [
            (ent_index[r.source.enterprise] * len(carriers) + car_index[r.term.carrier]) * len(USES)
            + use_index[r.term.use]
            for r in inv.energy_rows
        ]
        return cls(
            categories,
            gases,
            carriers,
            _Group.of(*parts["emission"]),
            _Group.of(*parts["offset"]),
            _Group.of(*parts["avoided"]),
            _Group.of(eflat, list(range(len(eflat)))),
        )


@dataclass
class Inventory:
    """Daily results of an inventory run and the means to roll them up and trace them.

    Use :meth:`dataset` for an xarray Dataset over any grouping of days, :meth:`totals`
    for the headline figures, :meth:`by_level` for park / zone / industry roll-ups and
    :meth:`trace` to see the activity, factors and method behind each number.
    """

    park: Park
    period: Period
    days: list[dt.date]
    gwp: dict[str, float]
    gwp_labels: dict[str, str]
    streams: list[str]
    stream_units: list[str]
    activity: np.ndarray  # streams × days, canonical units
    stream_refs: dict[int, list[tuple[int, int, str]]]  # (first day, end day, ref)
    term_rows: list[_TermRow]
    #: Tonnes of gas per unit of activity: (terms,) when constant over the run,
    #: else (terms, days).
    term_coef: np.ndarray
    term_gwp: np.ndarray  # (terms,)
    energy_rows: list[_EnergyRow]
    #: Physical, tce and coal-equivalent tce per unit: (3, rows) or (3, rows, days).
    energy_coef: np.ndarray
    market_scope2_tco2e: np.ndarray  # enterprises × days
    plant_factors: dict[str, dict[int, tuple[float, float]]]
    enterprises: list[str]
    settings_note: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    # ---------------------------------------------------------------- grouping helpers
    def _reducer(
        self, by: str, periods: list[Period] | None
    ) -> tuple[list[str], Callable[[np.ndarray], np.ndarray]]:
        """Return period labels and a function summing a (rows × days) array to periods."""
        labels, code = period_groups(self.days, by, periods)
        n = len(self.days)
        if by == "day" and len(labels) == n:
            return labels, lambda arr: arr
        if n and (code >= 0).all() and (np.diff(code) >= 0).all():
            starts = np.concatenate(([0], np.flatnonzero(np.diff(code)) + 1))

            def contiguous(arr: np.ndarray) -> np.ndarray:
                if not arr.shape[0]:
                    return np.zeros((0, len(labels)))
                return np.add.reduceat(arr, starts, axis=1)

            return labels, contiguous
        keep = code >= 0
        mat = sp.csr_matrix(
            (np.ones(int(keep.sum())), (np.flatnonzero(keep), code[keep])), shape=(n, len(labels))
        )

        def general(arr: np.ndarray) -> np.ndarray:
            return np.asarray((mat.T @ arr.T).T)

        return labels, general

    @functools.cached_property
    def _layout(self) -> _Layout:
        return _Layout.build(self)

    @functools.cached_property
    def term_stream_rows(self) -> np.ndarray:
        """Row of :attr:`activity` each term multiplies."""
        return np.fromiter(
            (r.stream_row for r in self.term_rows), dtype=np.intp, count=len(self.term_rows)
        )

    @functools.cached_property
    def energy_stream_rows(self) -> np.ndarray:
        """Row of :attr:`activity` each energy row multiplies."""
        return np.fromiter(
            (r.stream_row for r in self.energy_rows), dtype=np.intp, count=len(self.energy_rows)
        )

    def term_gas_t(self, rows: np.ndarray | list[int] | None = None) -> np.ndarray:
        """Tonnes of gas per term and day (all terms, or those in ``rows``)."""
        idx = np.arange(len(self.term_rows)) if rows is None else np.asarray(rows, np.intp)
        coef = self.term_coef[idx]
        act = self.activity[self.term_stream_rows[idx]]
        return act * (coef[:, None] if coef.ndim == 1 else coef)

    def term_tco2e(self, rows: np.ndarray | list[int] | None = None) -> np.ndarray:
        """tCO2e per term and day (all terms, or those in ``rows``)."""
        idx = np.arange(len(self.term_rows)) if rows is None else np.asarray(rows, np.intp)
        return self.term_gas_t(idx) * self.term_gwp[idx, None]

    def _cell_days(
        self,
        name: str,
        group: _Group,
        weight: np.ndarray,
        coef: np.ndarray,
        stream_rows: np.ndarray,
    ) -> np.ndarray:
        """Daily sums of ``weight × coef × activity`` of ``group``'s rows in its cells.

        Computed once per inventory and kept: every grouping of days reduces this array.
        """
        cache = self.__dict__.setdefault("_cell_cache", {})
        if name in cache:
            return cache[name]
        cols, cells = group.cols, group.cells
        if coef.ndim == 1:  # constant coefficients: fold them into the grouping matrix
            mat = sp.csr_matrix(
                (weight * coef[cols], (group.inverse, stream_rows[cols])),
                shape=(len(cells), self.activity.shape[0]),
            )
            out = np.asarray(mat @ self.activity)
        else:
            mat = sp.csr_matrix(
                (weight, (group.inverse, np.arange(len(cols)))), shape=(len(cells), len(cols))
            )
            out = np.asarray(mat @ (self.activity[stream_rows[cols]] * coef[cols]))
        cache[name] = out
        return out

    def dataset(
        self, by: str = "month", periods: Sequence[Period | str] | None = None
    ) -> xr.Dataset:
        """Return the inventory over periods of ``by``.

        Parameters
        ----------
        by : {'year', 'quarter', 'month', 'day', 'custom'}
            The grouping of days; ``custom`` takes ``periods``.
        periods : list of Period or str, optional
            Custom periods such as ``["2025-01-01/2025-06-30", "2025-07-01/2025-12-31"]``.

        Returns
        -------
        xarray.Dataset
            ``emissions_tco2e`` and ``emissions_t`` (period, enterprise, scope, category,
            gas); ``scope2_market_tco2e`` (period, enterprise); ``offsets_tco2e`` and
            ``avoided_tco2e`` (period, enterprise, instrument); ``energy_physical``,
            ``energy_tce`` and ``energy_tce_equivalent`` (period, enterprise, carrier, use).
        """
        custom = [parse_period(p) if isinstance(p, str) else p for p in periods or []]
        labels, reduce = self._reducer(by, custom or None)
        lay = self._layout
        n_e, n_p = len(self.enterprises), len(labels)

        def scatter(
            name: str,
            group: _Group,
            coef: np.ndarray,
            weight: np.ndarray,
            stream_rows: np.ndarray,
            shape: tuple[int, ...],
        ) -> np.ndarray:
            # Filled in one sequential pass: scattered first writes into a fresh zeroed
            # mapping fault page by page and cost ten times more.
            dense = np.empty((int(np.prod(shape)), n_p))
            dense.fill(0.0)
            if len(group.cols):
                dense[group.cells] = reduce(self._cell_days(name, group, weight, coef, stream_rows))
            return np.moveaxis(dense.reshape(*shape, n_p), -1, 0)

        rows_t, gwp = self.term_stream_rows, self.term_gwp
        shape5 = (n_e, 3, len(lay.categories), len(lay.gases))
        e = lay.emission
        co2e = scatter("co2e", e, self.term_coef, gwp[e.cols], rows_t, shape5)
        mass = scatter("mass", e, self.term_coef, np.ones(len(e.cols)), rows_t, shape5)
        shape_i = (n_e, len(INSTRUMENTS))
        off = scatter("offset", lay.offset, self.term_coef, gwp[lay.offset.cols], rows_t, shape_i)
        avoided = scatter(
            "avoided", lay.avoided, self.term_coef, gwp[lay.avoided.cols], rows_t, shape_i
        )
        market = reduce(self.market_scope2_tco2e).T  # periods × enterprises
        shape_k = (n_e, len(lay.carriers), len(USES))
        ones_k = np.ones(len(lay.energy.cols))

        def energy(j: int) -> np.ndarray:
            return scatter(
                f"energy{j}",
                lay.energy,
                self.energy_coef[j],
                ones_k,
                self.energy_stream_rows,
                shape_k,
            )

        scopes = [1, 2, 3]
        categories, gases, carriers = lay.categories, lay.gases, lay.carriers
        instruments, uses = list(INSTRUMENTS), list(USES)
        ent_objs = self.park.enterprises
        coords = {
            "period": labels,
            "enterprise": self.enterprises,
            "scope": scopes,
            "category": categories,
            "gas": gases,
            "instrument": instruments,
            "carrier": carriers,
            "use": uses,
            "zone": ("enterprise", [e.zone for e in ent_objs]),
            "industry": ("enterprise", [e.industry for e in ent_objs]),
            "enterprise_name": ("enterprise", [e.name for e in ent_objs]),
            "carrier_unit": ("carrier", [_carrier_unit(c) for c in carriers]),
            "gwp": ("gas", [self.gwp.get(g, math.nan) for g in gases]),
        }
        d5 = ("period", "enterprise", "scope", "category", "gas")
        d4 = ("period", "enterprise", "carrier", "use")
        ds = xr.Dataset(
            {
                "emissions_tco2e": (d5, co2e, {"units": "tCO2e"}),
                "emissions_t": (d5, mass, {"units": "t", "long_name": "mass of each gas"}),
                "scope2_market_tco2e": (("period", "enterprise"), market, {"units": "tCO2e"}),
                "offsets_tco2e": (("period", "enterprise", "instrument"), off, {"units": "tCO2e"}),
                "avoided_tco2e": (
                    ("period", "enterprise", "instrument"),
                    avoided,
                    {"units": "tCO2e"},
                ),
                "energy_physical": (d4, energy(0), {"units": "see carrier_unit"}),
                "energy_tce": (d4, energy(1), {"units": "tce", "method": "calorific (当量值)"}),
                "energy_tce_equivalent": (
                    d4,
                    energy(2),
                    {"units": "tce", "method": "coal equivalent (等价值)"},
                ),
            },
            coords=coords,
            attrs={
                "schema": SCHEMA,
                "park": self.park.id,
                "timezone": self.park.timezone,
                "period_start": self.period.start.isoformat(),
                "period_end": self.period.end.isoformat(),
                "grouping": by,
                **self.settings_note,
            },
        )
        return ds

    def totals(
        self,
        by: str = "year",
        periods: Sequence[Period | str] | None = None,
        ds: xr.Dataset | None = None,
    ) -> pd.DataFrame:
        """Return the headline figures per period [tCO2e, tce].

        ``gross`` is scope 1 + scope 2 (location-based); ``net`` is gross minus offsets
        (green power, GEC, CCER), the CECS 5.5.5 view. Scope 3 and avoided emissions are
        reported apart.
        """
        ds = self.dataset(by, periods) if ds is None else ds
        e = ds.emissions_tco2e.sum(("enterprise", "category", "gas"))
        out = pd.DataFrame(
            {
                "scope1_tco2e": e.sel(scope=1).values,
                "scope2_location_tco2e": e.sel(scope=2).values,
                "scope2_market_tco2e": ds.scope2_market_tco2e.sum("enterprise").values,
                "scope3_tco2e": e.sel(scope=3).values,
            },
            index=pd.Index(ds.period.values, name="period"),
        )
        out["gross_tco2e"] = out.scope1_tco2e + out.scope2_location_tco2e
        out["offsets_tco2e"] = ds.offsets_tco2e.sum(("enterprise", "instrument")).values
        out["net_tco2e"] = out.gross_tco2e - out.offsets_tco2e
        out["avoided_tco2e"] = ds.avoided_tco2e.sum(("enterprise", "instrument")).values
        no_renew = ds.energy_tce.sel(use=["consumption", "export"])
        out["energy_tce"] = no_renew.sum(("enterprise", "carrier", "use")).values
        out["energy_tce_equivalent"] = (
            ds.energy_tce_equivalent.sel(use=["consumption", "export"])
            .sum(("enterprise", "carrier", "use"), skipna=False)
            .values
        )
        out["feedstock_tce"] = (
            ds.energy_tce.sel(use="feedstock").sum(("enterprise", "carrier")).values
        )
        out["renewable_tce"] = (
            ds.energy_tce.sel(use="renewable").sum(("enterprise", "carrier")).values
        )
        return out

    def by_level(
        self, level: str = "park", by: str = "year", ds: xr.Dataset | None = None
    ) -> xr.Dataset:
        """Roll the inventory up to ``park``, ``zone``, ``industry`` or ``enterprise``."""
        ds = self.dataset(by) if ds is None else ds
        if level == "enterprise":
            return ds
        per_ent = [v for v in ds.data_vars if "enterprise" in ds[v].dims]
        if level == "park":
            out = ds[per_ent].sum("enterprise", skipna=False)
            return out.expand_dims(park=[self.park.id])
        if level not in ("zone", "industry"):
            msg = f"level {level!r} is not known; use park, zone, industry or enterprise"
            raise ValidationError(msg)
        keys = ds[level].values
        uniq = sorted(set(keys.tolist()))
        mat = np.zeros((len(uniq), len(keys)))
        for j, k in enumerate(keys):
            mat[uniq.index(k), j] = 1.0
        weights = xr.DataArray(mat, dims=(level, "enterprise"), coords={level: uniq})
        data = {
            v: xr.dot(
                weights, ds[v].drop_vars(["zone", "industry", "enterprise_name"]), dim="enterprise"
            )
            for v in per_ent
        }
        return xr.Dataset(data, attrs=ds.attrs)

    def trace(
        self,
        period: str | None = None,
        *,
        enterprise: str | None = None,
        source: str | None = None,
        scope: int | None = None,
        category: str | None = None,
        gas: str | None = None,
        kind: str | None = None,
    ) -> pd.DataFrame:
        """Return the activity, factors and method behind the numbers.

        One row per source term and stretch of constant factors that overlaps ``period``
        (a period string such as ``2025-03``; the whole run when omitted).
        """
        p = parse_period(period) if period else self.period
        lo = max((p.start - self.period.start).days, 0)
        hi = min((p.end - self.period.start).days + 1, len(self.days))
        rows = []
        coef = self.term_coef
        for i, r in enumerate(self.term_rows):
            t, s = r.term, r.source
            if (
                (enterprise and s.enterprise != enterprise)
                or (source and s.id != source)
                or (scope and t.scope != scope)
                or (category and t.category != category)
                or (gas and t.gas != gas)
                or (kind and t.kind != kind)
            ):
                continue
            for st in r.stretches:
                a, b = max(st.a, lo), min(st.b, hi)
                if a >= b:
                    continue
                act_days = self.activity[r.stream_row, a:b]
                act = float(act_days.sum())
                gas_t = float((act_days * (coef[i] if coef.ndim == 1 else coef[i, a:b])).sum())
                rows.append(
                    {
                        "enterprise": s.enterprise,
                        "source": s.id,
                        "stream": t.stream,
                        "method": s.method,
                        "kind": t.kind,
                        "scope": t.scope,
                        "category": t.category,
                        "gas": t.gas,
                        "from": self.days[a].isoformat(),
                        "to": self.days[b - 1].isoformat(),
                        "activity": act,
                        "activity_unit": self.stream_units[r.stream_row],
                        "coefficient": st.coefficient
                        if t.plant is None
                        else (gas_t / act if act else math.nan),
                        "emissions_t": gas_t,
                        "emissions_tco2e": gas_t * float(self.term_gwp[i]),
                        "gwp": self.gwp_labels.get(t.gas, ""),
                        "factors": "; ".join(st.factors),
                        "formula": st.formula,
                        "activity_refs": "; ".join(
                            ref
                            for ra, rb, ref in self.stream_refs.get(r.stream_row, [])
                            if ra < b and rb > a
                        ),
                    }
                )
        return pd.DataFrame(rows)

    def to_json(
        self,
        by: str = "month",
        periods: Sequence[Period | str] | None = None,
        level: str = "enterprise",
    ) -> dict:
        """Return the inventory as the documented JSON document (schema ``SCHEMA``)."""
        ds = self.dataset(by, periods)
        totals = self.totals(by, ds=ds)
        cells = []
        e = ds.emissions_tco2e
        nz = np.argwhere(np.abs(e.values) > 0)
        for pi, ei, si, ci, gi in nz:
            cells.append(
                {
                    "period": str(ds.period.values[pi]),
                    "enterprise": str(ds.enterprise.values[ei]),
                    "scope": int(ds.scope.values[si]),
                    "category": str(ds.category.values[ci]),
                    "gas": str(ds.gas.values[gi]),
                    "emissions_t": _num(ds.emissions_t.values[pi, ei, si, ci, gi]),
                    "emissions_tco2e": _num(e.values[pi, ei, si, ci, gi]),
                }
            )
        energy = []
        for pi, ei, ki, ui in np.argwhere(np.abs(ds.energy_physical.values) > 0):
            energy.append(
                {
                    "period": str(ds.period.values[pi]),
                    "enterprise": str(ds.enterprise.values[ei]),
                    "carrier": str(ds.carrier.values[ki]),
                    "use": str(ds.use.values[ui]),
                    "amount": _num(ds.energy_physical.values[pi, ei, ki, ui]),
                    "unit": str(ds.carrier_unit.values[ki]),
                    "energy_tce": _num(ds.energy_tce.values[pi, ei, ki, ui]),
                    "energy_tce_equivalent": _num(ds.energy_tce_equivalent.values[pi, ei, ki, ui]),
                }
            )
        offsets = []
        for pi, ei, ii in np.argwhere(np.abs(ds.offsets_tco2e.values) > 0):
            offsets.append(
                {
                    "period": str(ds.period.values[pi]),
                    "enterprise": str(ds.enterprise.values[ei]),
                    "instrument": str(ds.instrument.values[ii]),
                    "offsets_tco2e": _num(ds.offsets_tco2e.values[pi, ei, ii]),
                }
            )
        levels = None
        if level != "enterprise":
            lv = self.by_level(level, ds=ds).emissions_tco2e.sum(("category", "gas"))
            dim = lv.dims[1] if lv.dims[0] == "period" else lv.dims[0]
            levels = [
                {
                    "period": str(pp),
                    level: str(k),
                    "scope": int(sc),
                    "emissions_tco2e": _num(lv.sel({"period": pp, dim: k, "scope": sc})),
                }
                for pp in lv.period.values
                for k in lv[dim].values
                for sc in lv.scope.values
            ]
        doc = {
            "schema": SCHEMA,
            "park": {"id": self.park.id, "name": self.park.name, "timezone": self.park.timezone},
            "period": {
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "grouping": by,
            },
            "settings": dict(self.settings_note),
            "gwp": {g: self.gwp_labels[g] for g in sorted(self.gwp_labels)},
            "totals": [
                {"period": str(k), **{c: _num(v) for c, v in row.items()}}
                for k, row in totals.iterrows()
            ],
            "emissions": cells,
            "energy": energy,
            "offsets": offsets,
            "plant_factors": {
                p: {
                    str(y): {"power_tco2_per_mwh": _num(v[0]), "heat_tco2_per_gj": _num(v[1])}
                    for y, v in by_year.items()
                }
                for p, by_year in self.plant_factors.items()
            },
            "warnings": list(self.warnings),
        }
        if levels is not None:
            doc["levels"] = levels
        return doc


def _num(x: float | np.floating | xr.DataArray) -> float | None:
    v = float(x)
    return None if math.isnan(v) else round(v, 9)


def _carrier_unit(carrier_id: str) -> str:
    return carrier(carrier_id).unit


# ------------------------------------------------------------------------------- compute
def _breakpoints(
    source: EmissionSource,
    ent: Enterprise,
    period: Period,
    overrides: list[FactorOverride],
    base: list[dt.date],
) -> list[dt.date]:
    """Days on which something a source's coefficients depend on may change."""
    if not (
        source.start
        or source.stop
        or ent.entry_date
        or ent.exit_date
        or source.measured
        or overrides
    ):
        return base
    points = set(base)
    for d in (source.start, ent.entry_date):
        if d:
            points.add(d)
    for d in (source.stop, ent.exit_date):
        if d:
            points.add(d + dt.timedelta(days=1))
    for m in source.measured:
        points.add(m.valid_from)
    for o in overrides:
        if o.valid_from:
            points.add(o.valid_from)
        if o.valid_to:
            points.add(o.valid_to + dt.timedelta(days=1))
    lo, hi = period.start, period.end + dt.timedelta(days=1)
    return sorted(p for p in points if lo <= p <= hi)


def _applicable(overrides: list[FactorOverride], source: EmissionSource) -> list[FactorOverride]:
    return [
        o
        for o in overrides
        if not o.revoked
        and (
            o.applies_to == "park"
            or (o.applies_to == "enterprise" and o.target == source.enterprise)
            or (o.applies_to == "source" and o.target == source.id)
        )
    ]


def compute_inventory(
    park: Park,
    period: Period | str,
    *,
    intervals: IntervalData | None = None,
    entries: Iterable[ActivityEntry] = (),
    overrides: Iterable[FactorOverride] = (),
    library: FactorLibrary | None = None,
    strict: bool = True,
) -> Inventory:
    """Compute the energy and GHG inventory of ``park`` over ``period``.

    Parameters
    ----------
    park : Park
        The park definition (its accounting settings choose factor and GWP sets).
    period : Period or str
        The run's days, e.g. ``"2025"``; any grouping of them is available afterwards.
    intervals : IntervalData, optional
        Metered activity per stream key, canonical units, any interval length.
    entries : iterable of ActivityEntry
        Validated entries (canonical units), apportioned evenly over their days.
    overrides : iterable of FactorOverride
        User factors; the most specific applicable one wins.
    library : FactorLibrary, optional
        The factor library; the built-in one by default.
    strict : bool
        Raise :class:`ConsistencyError` on problems (unknown streams, a plant without
        output) instead of recording them in ``Inventory.warnings``.

    Returns
    -------
    Inventory
    """
    period = parse_period(period) if isinstance(period, str) else period
    library = library or FactorLibrary.builtin()
    settings = park.accounting
    overrides = list(overrides)
    n_days = period.days
    days = [period.start + dt.timedelta(days=i) for i in range(n_days)]
    warnings: list[str] = []

    def problem(msg: str) -> None:
        if strict:
            raise ConsistencyError(msg)
        warnings.append(msg)

    # Streams of every source.
    prepared = []
    validated: dict[tuple[str, str], object] = {}
    streams: list[str] = []
    units: list[str] = []
    row_of: dict[str, int] = {}
    for s in park.sources:
        method = get_method(s.method)
        vkey = (s.method, repr(s.params))
        if vkey not in validated:
            validated[vkey] = method.params(s)
        params = validated[vkey]
        for name, unit in method.streams(s, params).items():
            key = stream_key(s.id, name)
            row_of[key] = len(streams)
            streams.append(key)
            units.append(unit)
        prepared.append((s, method, params))

    # Activity: streams × days.
    activity = np.zeros((len(streams), n_days))
    refs: dict[int, list[tuple[int, int, str]]] = {}
    if intervals is not None and intervals.values.size:
        idays, starts = day_edges(intervals.index, park.timezone)
        sums = np.add.reduceat(intervals.values, starts, axis=1)
        first = (idays[0] - period.start).days
        k0, k1 = max(0, -first), min(len(idays), n_days - first)
        unknown = [k for k in intervals.streams if k not in row_of]
        if unknown:
            problem(f"interval data has streams no source takes: {', '.join(unknown[:10])}")
        rows = np.array([row_of.get(k, -1) for k in intervals.streams])
        ok = rows >= 0
        if k1 > k0:
            if (
                ok.all()
                and len(rows) == len(streams)
                and np.array_equal(rows, np.arange(len(rows)))
            ):
                if first + k0 == 0 and k1 - k0 == n_days and sums.shape[1] == n_days:
                    activity = sums  # the common case: one stream per source, whole period
                else:
                    activity[:, first + k0 : first + k1] += sums[:, k0:k1]
            else:
                activity[rows[ok], first + k0 : first + k1] += sums[ok, k0:k1]
        for k, r in zip(intervals.streams, rows, strict=True):
            if r >= 0:
                refs.setdefault(int(r), []).append(
                    (first + k0, first + k1, intervals.refs.get(k, f"interval:{k}"))
                )
    for e in entries:
        r = row_of.get(e.key)
        if r is None:
            problem(f"entry {e.id or e.ref}: no source takes stream {e.key!r}")
            continue
        a, b = max(e.start, period.start), min(e.end, period.end)
        if b < a:
            continue
        per_day = e.quantity / ((e.end - e.start).days + 1)
        if e.unit != units[r]:
            per_day *= conversion_factor(e.unit, units[r])
        da, db = (a - period.start).days, (b - period.start).days + 1
        activity[r, da:db] += per_day
        refs.setdefault(r, []).append((da, db, e.ref or e.id or "entry"))
    if not np.isfinite(activity).all():
        bad = [streams[i] for i in np.flatnonzero(~np.isfinite(activity).all(axis=1))[:10]]
        problem(f"activity has NaN or infinite values for {', '.join(bad)}")
        activity = np.nan_to_num(activity, nan=0.0, posinf=0.0, neginf=0.0)

    # Terms: coefficients per stretch of constant factors.
    term_rows: list[_TermRow] = []
    energy_rows: list[_EnergyRow] = []
    term_index: dict[tuple, int] = {}
    energy_index: dict[tuple, int] = {}
    coef = []  # (row, a, b, value)
    ecoef = []  # (row, a, b, physical, tce, tce_eq)
    cache: dict[tuple, tuple[list[Term], list[EnergyTerm]]] = {}
    ents = {e.id: e for e in park.enterprises}
    base_points = sorted(
        {
            period.start,
            period.end + dt.timedelta(days=1),
            *(dt.date(y, 1, 1) for y in range(period.start.year + 1, period.end.year + 1)),
        }
    )
    for s, method, params in prepared:
        mine = _applicable(overrides, s) if overrides else []
        ent = ents[s.enterprise]
        points = _breakpoints(s, ent, period, mine, base_points)
        pkey = repr(s.params) if s.params else ""
        for start, stop in itertools.pairwise(points):
            if not (s.active_on(start) and ent.active_on(start)):
                continue
            a, b = (start - period.start).days, (stop - period.start).days
            measured = (
                tuple((m.name, m.value, m.ref) for m in s.measured if m.valid_from <= start)
                if s.measured
                else ()
            )
            ckey = (
                s.method,
                s.carrier,
                s.scope,
                s.category,
                pkey,
                measured,
                start.year,
                tuple(o.id or id(o) for o in mine if o.covers(start)),
                s.id if mine or measured else "",
            )
            if ckey not in cache:
                ctx = MethodContext(library, settings, s, start, mine)
                cache[ckey] = method.terms(s, params, ctx)
            terms, eterms = cache[ckey]
            for t in terms:
                tk = (
                    s.id,
                    t.stream,
                    t.gas,
                    t.kind,
                    t.scope,
                    t.category,
                    t.instrument,
                    t.plant_part,
                )
                if tk not in term_index:
                    term_index[tk] = len(term_rows)
                    term_rows.append(_TermRow(s, row_of[stream_key(s.id, t.stream)], t))
                row = term_index[tk]
                term_rows[row].stretches.append(
                    _Stretch(row, a, b, t.coefficient, t.factors, t.formula)
                )
                if t.plant is None:
                    coef.append((row, a, b, t.coefficient))
            for t in eterms:
                ek = (s.id, t.stream, t.carrier, t.use)
                if ek not in energy_index:
                    energy_index[ek] = len(energy_rows)
                    energy_rows.append(_EnergyRow(s, row_of[stream_key(s.id, t.stream)], t))
                ecoef.append((energy_index[ek], a, b, t.physical, t.tce, t.tce_equivalent))

    n_terms = len(term_rows)
    plants = {r.term.plant for r in term_rows if r.term.plant}
    # Coefficients: a vector when every term has one value for the whole run (the common
    # case, which then needs no terms × days array at all), else terms × days.
    constant = (
        not plants and len(coef) == n_terms and all(a == 0 and b == n_days for _, a, b, _ in coef)
    )
    if constant:
        coefficients = np.zeros(n_terms)
        for row, _, _, v in coef:
            coefficients[row] = v
    else:
        coefficients = np.zeros((n_terms, n_days))
        for row, a, b, v in coef:
            coefficients[row, a:b] = v
    stream_rows = np.fromiter((r.stream_row for r in term_rows), dtype=np.intp, count=n_terms)

    def gas_t(idx: list[int]) -> np.ndarray:
        """Tonnes of gas per day of the terms in ``idx``."""
        c = coefficients[idx]
        return activity[stream_rows[idx]] * (c[:, None] if c.ndim == 1 else c)

    # Self-owned plants: their own supply factors, per calendar year.
    plant_factors: dict[str, dict[int, tuple[float, float]]] = {}
    years = np.array([d.year for d in days])
    for plant in sorted(plants):
        plant_factors[plant] = {}
        burn = [
            i
            for i, r in enumerate(term_rows)
            if r.source.facility == plant
            and r.term.kind == "emission"
            and r.term.scope == 1
            and r.term.gas == "CO2"
        ]
        gen_sources = [
            s for s, _, _ in prepared if s.method == "plant_generation" and s.facility == plant
        ]
        for year in sorted(set(years.tolist())):
            sel = years == year
            emitted = float(gas_t(burn)[:, sel].sum()) if burn else 0.0
            mwh = (
                sum(
                    activity[row_of[stream_key(g.id, "electricity")], sel].sum()
                    for g in gen_sources
                )
                * 1e-3
            )
            gj = sum(activity[row_of[stream_key(g.id, "heat")], sel].sum() for g in gen_sources)
            share = next(
                (get_method("plant_generation").params(g).power_share_frac for g in gen_sources),
                None,
            )
            ef_power, ef_heat = plant_supply_factors(emitted, mwh, gj, share)
            plant_factors[plant][year] = (ef_power, ef_heat)
        for i, r in enumerate(term_rows):
            if r.term.plant != plant:
                continue
            for st in r.stretches:
                for year in sorted(set(years[st.a : st.b].tolist())):
                    ef_power, ef_heat = plant_factors[plant][year]
                    ef = ef_power if r.term.plant_part == "power" else ef_heat
                    in_year = np.zeros(n_days, dtype=bool)
                    in_year[st.a : st.b] = True
                    in_year &= years == year
                    if math.isnan(ef) and activity[r.stream_row, in_year].any():
                        problem(
                            f"self-owned plant {plant!r} supplied no "
                            f"{'electricity' if r.term.plant_part == 'power' else 'heat'}"
                            f" in {year} but source {r.source.id!r} takes its supply; "
                            "enter the plant's output (method plant_generation)"
                        )
                    coefficients[i, in_year] = 0.0 if math.isnan(ef) else st.coefficient * ef
                part = 0 if r.term.plant_part == "power" else 1
                unit = "tCO2/MWh" if part == 0 else "tCO2/GJ"
                st.factors = (
                    *st.factors,
                    *(
                        f"plant:{plant}@{y}={plant_factors[plant][y][part]:g} {unit}"
                        for y in sorted(set(years[st.a : st.b].tolist()))
                    ),
                )

    # GWP per term.
    gases = sorted({r.term.gas for r in term_rows})
    gwp, gwp_labels = {}, {}
    for g in gases:
        if g == "CO2e":
            gwp[g], gwp_labels[g] = 1.0, "already CO2-equivalent"
            continue
        f = library.get(f"gwp:{g}", gwp_set=settings.gwp_set)
        gwp[g], gwp_labels[g] = f.value, f.label
    gwp_row = np.array([gwp[r.term.gas] for r in term_rows], dtype=float)

    def tco2e(idx: list[int]) -> np.ndarray:
        return gas_t(idx) * gwp_row[idx, None]

    # Energy coefficients per row: (3, rows) when constant, else (3, rows, days).
    n_er = len(energy_rows)
    if len(ecoef) == n_er and all(a == 0 and b == n_days for _, a, b, *_ in ecoef):
        energy_coef = np.zeros((3, n_er))
        for row, _, _, ph, tce, eq in ecoef:
            energy_coef[:, row] = (ph, tce, eq)
    else:
        energy_coef = np.zeros((3, n_er, n_days))
        for row, a, b, ph, tce, eq in ecoef:
            energy_coef[:, row, a:b] = np.array([ph, tce, eq])[:, None]

    # Market-based scope 2: residual factor on grid power not covered by green instruments.
    enterprises = [e.id for e in park.enterprises]
    ent_index = {e: i for i, e in enumerate(enterprises)}
    n_e = len(enterprises)

    def by_enterprise(idx: list[int], rows_of_idx: np.ndarray) -> np.ndarray:
        """Sum rows (one per term in ``idx``) into enterprises."""
        if not idx:
            return np.zeros((n_e, n_days))
        ents_of = [ent_index[term_rows[i].source.enterprise] for i in idx]
        g = sp.csr_matrix(
            (np.ones(len(idx)), (ents_of, np.arange(len(idx)))), shape=(n_e, len(idx))
        )
        return np.asarray(g @ rows_of_idx)

    s2 = [i for i, r in enumerate(term_rows) if r.term.kind == "emission" and r.term.scope == 2]
    market = by_enterprise(s2, tco2e(s2))
    grid = [i for i, r in enumerate(term_rows) if r.term.market == "grid"]
    green = [i for i, r in enumerate(term_rows) if r.term.market == "green"]
    residual_labels: list[str] = []
    if grid:

        def active(idx: list[int]) -> np.ndarray:  # activity on the days each term applies
            c = coefficients[idx]
            return activity[stream_rows[idx]] * ((c[:, None] if c.ndim == 1 else c) != 0)

        grid_kwh = by_enterprise(grid, active(grid))
        grid_loc = by_enterprise(grid, tco2e(grid))
        green_kwh = by_enterprise(green, active(green))
        residual = np.zeros((n_e, n_days))
        targeted = {
            o.target
            for o in overrides
            if o.factor == settings.residual_factor and o.applies_to == "enterprise"
        }
        for year in sorted(set(years.tolist())):
            sel = years == year
            for ent_id in [None, *sorted(targeted)]:
                holder = ent_id or enterprises[0] if enterprises else ""
                probe = EmissionSource(
                    id=f"{holder}:residual",
                    enterprise=holder,
                    method="purchased_electricity",
                    carrier="electricity",
                    scope=2,
                    category="purchased_electricity",
                )
                applicable = [
                    o
                    for o in overrides
                    if o.applies_to == "park"
                    or (ent_id is not None and o.applies_to == "enterprise" and o.target == ent_id)
                ]
                ctx = MethodContext(library, settings, probe, dt.date(year, 1, 1), applicable)
                value = ctx.factor(settings.residual_factor, "t/kWh")
                if ent_id is None:
                    residual[:, sel] = value
                    residual_labels.extend(ctx.used)
                elif ent_id in ent_index:
                    residual[ent_index[ent_id], sel] = value
        uncovered = np.maximum(grid_kwh - green_kwh, 0.0)
        market += uncovered * residual - grid_loc

    note = {
        "factor_set": settings.factor_set,
        "gwp_set": settings.gwp_set,
        "grid_factor": settings.grid_factor,
        "residual_factor": settings.residual_factor,
        "electricity_method": settings.electricity_method,
    }
    if residual_labels:
        note["residual_factor_used"] = residual_labels[0]
    eq_years = settings.electricity_equivalent_kgce_per_kwh
    if any(y not in eq_years for y in set(years.tolist())):
        warnings.append(
            "no coal-equivalent electricity value configured for "
            f"{sorted(set(years.tolist()) - set(eq_years))}: energy_tce_equivalent "
            "is NaN where electricity is used (accounting.electricity_equivalent_"
            "kgce_per_kwh)"
        )
    return Inventory(
        park=park,
        period=period,
        days=days,
        gwp=gwp,
        gwp_labels=gwp_labels,
        streams=streams,
        stream_units=[factor_unit(u) for u in units],
        activity=activity,
        stream_refs=refs,
        term_rows=term_rows,
        term_coef=coefficients,
        term_gwp=gwp_row,
        energy_rows=energy_rows,
        energy_coef=energy_coef,
        market_scope2_tco2e=market,
        plant_factors=plant_factors,
        enterprises=enterprises,
        settings_note=note,
        warnings=warnings,
    )
