"""What-if studies: modify the park, simulate both, compare the KPIs.

A modification adds PV or a battery, holds a setpoint, changes a schedule or sets an
asset parameter. :func:`what_if` runs the unmodified and the modified park over the same
time, weather and seed and returns both results and the KPI differences.

Examples
--------
>>> from carbontwin.core import load_park, demo_park_path
>>> park = load_park(demo_park_path())
>>> study = what_if(park, [AddPv("E06", 2000.0)], "2025-05-01", days=1, seed=3)
>>> bool(study.kpis.loc["grid_import_kwh", "difference"] < 0)
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from carbontwin.core.assets import Battery, PvArray
from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.twin.control import BaselineController, Controller, FixedSetpoints, setpoints
from carbontwin.twin.simulator import Kpis, SimulationResult, simulate

__all__ = [
    "AddBattery",
    "AddPv",
    "Modification",
    "SetParameter",
    "SetSchedule",
    "SetSetpoint",
    "WhatIf",
    "apply_modifications",
    "compare_kpis",
    "emissions_tco2e",
    "what_if",
]


@dataclass(frozen=True)
class AddPv:
    """Add a PV array to an enterprise [kW DC]."""

    enterprise: str
    capacity_kw: float
    tilt_deg: float = 20.0
    azimuth_deg: float = 180.0
    id: str | None = None


@dataclass(frozen=True)
class AddBattery:
    """Add a battery to an enterprise [kWh, kW]; with a threshold it shaves peaks."""

    enterprise: str
    energy_kwh: float
    power_kw: float
    peak_threshold_kw: float | None = None
    id: str | None = None


@dataclass(frozen=True)
class SetSetpoint:
    """Hold a setpoint (``<asset>.<name>``) at a value for the whole run."""

    setpoint: str
    value: float


@dataclass(frozen=True)
class SetSchedule:
    """Change a named schedule's hours [h], days or levels."""

    schedule: str
    start_h: float | None = None
    end_h: float | None = None
    days: str | None = None
    on_frac: float | None = None
    off_frac: float | None = None


@dataclass(frozen=True)
class SetParameter:
    """Set one parameter of an asset (e.g. a chiller's ``cop``)."""

    asset: str
    field: str
    value: Any


Modification = AddPv | AddBattery | SetSetpoint | SetSchedule | SetParameter


def _new_id(park: Park, stem: str) -> str:
    ids = {a.id for a in park.assets}
    n = 1
    while f"{stem}{n}" in ids:
        n += 1
    return f"{stem}{n}"


def apply_modifications(
    park: Park, modifications: Sequence[Modification]
) -> tuple[Park, dict[str, float]]:
    """Return a modified copy of ``park`` and the setpoints to hold fixed.

    Raises
    ------
    ValidationError
        Naming the modification when it refers to an unknown enterprise, asset, field or
        schedule.
    """
    out = park.model_copy(deep=True)
    fixed: dict[str, float] = {}
    ents = {e.id for e in out.enterprises}
    for m in modifications:
        if isinstance(m, AddPv | AddBattery) and m.enterprise not in ents:
            msg = f"{m}: enterprise {m.enterprise!r} is not in the park"
            raise ValidationError(msg)
        if isinstance(m, AddPv):
            out.assets.append(
                PvArray(
                    id=m.id or _new_id(out, f"A-{m.enterprise}-PV-NEW"),
                    enterprise=m.enterprise,
                    capacity_kw=m.capacity_kw,
                    tilt_deg=m.tilt_deg,
                    azimuth_deg=m.azimuth_deg,
                )
            )
        elif isinstance(m, AddBattery):
            out.assets.append(
                Battery(
                    id=m.id or _new_id(out, f"A-{m.enterprise}-BESS-NEW"),
                    enterprise=m.enterprise,
                    energy_kwh=m.energy_kwh,
                    power_kw=m.power_kw,
                    peak_threshold_kw=m.peak_threshold_kw,
                )
            )
        elif isinstance(m, SetSetpoint):
            fixed[m.setpoint] = float(m.value)
        elif isinstance(m, SetSchedule):
            if m.schedule not in out.twin.schedules:
                known = ", ".join(sorted(out.twin.schedules))
                msg = f"{m}: schedule {m.schedule!r} is not in park.twin.schedules ({known})"
                raise ValidationError(msg)
            old = out.twin.schedules[m.schedule]
            changes = {
                k: v
                for k, v in (
                    ("start_h", m.start_h),
                    ("end_h", m.end_h),
                    ("days", m.days),
                    ("on_frac", m.on_frac),
                    ("off_frac", m.off_frac),
                )
                if v is not None
            }
            out.twin.schedules[m.schedule] = type(old).model_validate(
                {**old.model_dump(), **changes}
            )
        elif isinstance(m, SetParameter):
            pos = {a.id: i for i, a in enumerate(out.assets)}
            if m.asset not in pos:
                msg = f"{m}: asset {m.asset!r} is not in the park"
                raise ValidationError(msg)
            asset = out.assets[pos[m.asset]]
            if m.field not in type(asset).model_fields or m.field in ("id", "kind"):
                msg = f"{m}: {asset.kind} assets have no parameter {m.field!r}"
                raise ValidationError(msg)
            out.assets[pos[m.asset]] = type(asset).model_validate(
                {**asset.model_dump(), m.field: m.value}
            )
        else:  # pragma: no cover - the union above is exhaustive
            msg = f"{m!r} is not a modification"
            raise ValidationError(msg)
    if fixed:
        known = setpoints(out)
        unknown = sorted(set(fixed) - set(known))
        if unknown:
            msg = f"setpoint {', '.join(unknown)} is not a setpoint of the park"
            raise ValidationError(msg)
    return out, fixed


def compare_kpis(
    base: Kpis, modified: Kpis, factors: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Return the headline KPIs of two runs side by side.

    Columns ``base``, ``modified``, ``difference`` and ``difference_frac``.

    With ``factors`` (tCO2e per canonical unit of each accounting stream key) the table
    has an ``emissions_tco2e`` row: the simulated activity times those factors.
    """
    a, b = base.summary(), modified.summary()
    if factors is not None:
        a["emissions_tco2e"] = emissions_tco2e(base, factors)
        b["emissions_tco2e"] = emissions_tco2e(modified, factors)
    out = pd.DataFrame({"base": a, "modified": b})
    out["difference"] = out.modified - out.base
    out["difference_frac"] = (out.difference / out.base.where(out.base != 0)).astype(float)
    out.index.name = "kpi"
    return out


def emissions_tco2e(kpis: Kpis, factors: Mapping[str, float]) -> float:
    """Return the simulated activity of each stream times its factor [tCO2e]."""
    return float(sum(v * factors.get(k, 0.0) for k, v in kpis.activity.items()))


@dataclass
class WhatIf:
    """Both runs of a what-if study and their KPI comparison."""

    base: SimulationResult
    modified: SimulationResult
    kpis: pd.DataFrame
    park: Park


def what_if(
    park: Park,
    modifications: Sequence[Modification],
    start: str | dt.date | pd.Timestamp,
    days: int,
    *,
    controller: Controller | None = None,
    factors: Mapping[str, float] | None = None,
    **options: Any,
) -> WhatIf:
    """Simulate ``park`` with and without ``modifications`` and compare.

    Parameters
    ----------
    park : Park
        The unmodified park.
    modifications : sequence of Modification
        What changes.
    start, days
        The period, as for :func:`~carbontwin.twin.simulator.simulate`.
    controller : Controller, optional
        Controls both runs (the baseline rules of each park by default); held setpoints
        sit on top of it in the modified run.
    factors : mapping of str to float, optional
        tCO2e per canonical unit of each stream key, for an emissions row.
    **options
        Passed to :func:`~carbontwin.twin.simulator.simulate` (``seed``, ``step_s``,
        ``weather`` ...); readings are not kept unless asked for.
    """
    options.setdefault("keep_readings_days", 0)
    modified, fixed = apply_modifications(park, modifications)
    base_ctl = controller or BaselineController(park)
    mod_ctl: Controller = controller or BaselineController(modified)
    if fixed:
        mod_ctl = FixedSetpoints(mod_ctl, fixed, setpoints(modified))
    a = simulate(park, start, days, controller=base_ctl, **options)
    b = simulate(modified, start, days, controller=mod_ctl, **options)
    return WhatIf(a, b, compare_kpis(a.kpis, b.kpis, factors), modified)
