"""Use cases of accounting: load a park, import activity, account it, export the result.

The CLI (and later the API and the dashboard) call these functions; no business logic
lives at the edges.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from carbontwin.accounting import (
    FactorLibrary,
    Inventory,
    check_park,
    compute_inventory,
    indicator_table,
)
from carbontwin.accounting.validation import ValidationResult, validate_entries
from carbontwin.connectors.files import read_activity_file, read_statistics_file
from carbontwin.core import ParkDefinitionError, demo_park_path, load_park, parse_period
from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.park import Park
from carbontwin.core.records import ActivityEntry, FactorOverride, QuarantineRecord, Statistic
from carbontwin.core.time import Period

__all__ = [
    "AccountRun",
    "account",
    "demo_activity_paths",
    "demo_statistics_path",
    "export_inventory",
    "import_activity",
    "indicators",
    "park_reference",
    "read_statistics",
    "resolve_park",
    "summary_table",
]

Progress = Callable[[str, int, int], None]


def resolve_park(spec: str | Path) -> Park:
    """Load a park: ``"demo"`` for the shipped demo park, else a YAML path.

    The park is checked strictly against the methodologies.

    Raises
    ------
    ParkDefinitionError
        Naming the file, the path inside it and what is wrong.
    """
    path = demo_park_path() if str(spec) == "demo" else Path(spec)
    park = load_park(path)
    try:
        check_park(park, strict=True)
    except ConsistencyError as exc:
        problems = [tuple(line.split(": ", 2)[1:]) for line in str(exc).splitlines()]
        raise ParkDefinitionError(
            path.name, [(p[0], p[1]) if len(p) == 2 else ("", p[0]) for p in problems]
        ) from None
    return park


def demo_activity_paths() -> list[Path]:
    """Return the demo park's 2025 sample activity files.

    The ledger, and manual entries that carry deliberate mistakes to show the quarantine.
    """
    folder = resources.files("carbontwin.data").joinpath("activity")
    return [Path(str(folder.joinpath(n))) for n in ("demo_2025.csv", "demo_2025_manual.csv")]


def park_reference() -> str:
    """Return the markdown reference of the park file and of every method's params."""
    from carbontwin.accounting.methods import methods_reference
    from carbontwin.core.reference import park_reference as core_reference

    return core_reference([("Methods and their `params`", methods_reference())])


def demo_statistics_path() -> Path:
    """Return the demo park's 2025 statistics: value added and product outputs."""
    return Path(
        str(resources.files("carbontwin.data").joinpath("activity/demo_2025_statistics.csv"))
    )


def read_statistics(paths: Sequence[str | Path]) -> tuple[list[Statistic], list[QuarantineRecord]]:
    """Read statistics files; invalid rows come back quarantined with their reasons."""
    stats: list[Statistic] = []
    bad: list[QuarantineRecord] = []
    for p in paths:
        good, rejected = read_statistics_file(p)
        stats.extend(good)
        bad.extend(rejected)
    return stats, bad


def indicators(
    run: AccountRun,
    stats: Sequence[Statistic],
    *,
    by: str = "year",
    entity: str = "park",
    custom: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Return intensity indicators of the park or one enterprise per period (A6).

    ``co2_per_wcny`` and ``energy_tce_per_wcny`` per 10^4 CNY of value added,
    ``co2_per_t_<product>`` per tonne of each product output, and ``custom`` indicators
    (name → expression over the columns of :meth:`Inventory.totals` and the statistics).
    """
    ds = run.inventory.dataset(by)
    if entity != "park":
        if entity not in ds.enterprise.values:
            msg = f"entity {entity!r} is not an enterprise of {run.park.id}; use 'park' or an id"
            raise ValidationError(msg)
        ds = ds.sel(enterprise=[entity])
    totals = run.inventory.totals(by, ds=ds)
    periods = [parse_period(str(label)) for label in totals.index]
    return indicator_table(totals, periods, stats, entity=entity, custom=custom)


def import_activity(
    park: Park,
    paths: Sequence[str | Path],
    *,
    existing: Sequence[ActivityEntry] = (),
    today: dt.date | None = None,
    period: Period | None = None,
    progress: Progress | None = None,
) -> ValidationResult:
    """Read and validate activity files; good rows become entries, bad rows quarantine.

    Files are validated in order, each against the entries accepted before it, so a row
    repeated in a later file is caught as a duplicate.
    """
    result = ValidationResult()
    accepted: list[ActivityEntry] = list(existing)
    for i, p in enumerate(paths):
        if progress:
            progress(str(p), i, len(paths))
        rows, bad = read_activity_file(p)
        result.quarantine.extend(bad)
        part = validate_entries(
            park, rows, origin="file", existing=accepted, today=today, period=period
        )
        accepted.extend(part.entries)
        result.entries.extend(part.entries)
        result.quarantine.extend(part.quarantine)
        result.findings.extend(part.findings)
    if progress:
        progress("", len(paths), len(paths))
    return result


@dataclass
class AccountRun:
    """An inventory with the validation of the activity behind it."""

    park: Park
    period: Period
    inventory: Inventory
    validation: ValidationResult = field(default_factory=ValidationResult)


def account(
    park: Park,
    period: str | Period,
    *,
    activity: Sequence[str | Path] = (),
    entries: Iterable[ActivityEntry] = (),
    overrides: Iterable[FactorOverride] = (),
    today: dt.date | None = None,
    progress: Progress | None = None,
    library: FactorLibrary | None = None,
) -> AccountRun:
    """Account ``park`` over ``period`` from activity files and/or stored entries.

    Runs the consistency checks strictly before finalising the inventory.
    """
    p = parse_period(period) if isinstance(period, str) else period
    entries = list(entries)
    validation = (
        import_activity(park, activity, existing=entries, today=today, period=p, progress=progress)
        if activity
        else ValidationResult()
    )
    check_park(park, strict=True, library=library)
    inv = compute_inventory(
        park,
        p,
        entries=[*entries, *validation.entries],
        overrides=overrides,
        library=library,
        strict=True,
    )
    return AccountRun(park, p, inv, validation)


_COLUMNS = [
    "scope1_tco2e",
    "scope2_location_tco2e",
    "scope2_market_tco2e",
    "scope3_tco2e",
    "gross_tco2e",
    "offsets_tco2e",
    "net_tco2e",
    "energy_tce",
    "energy_tce_equivalent",
]


def summary_table(run: AccountRun, by: str = "month", level: str = "park") -> pd.DataFrame:
    """Return headline figures per period and entity: the table the CLI prints and exports.

    Below park level the entities are zones, industries or enterprises.
    """
    inv = run.inventory
    ds = inv.dataset(by)
    if level == "park":
        out = inv.totals(by, ds=ds)[_COLUMNS].reset_index()
        out.insert(1, "level", run.park.id)
        return out
    if level not in ("zone", "industry", "enterprise"):
        msg = f"level {level!r} is not known; use park, zone, industry or enterprise"
        raise ValidationError(msg)
    frames = []
    for key in sorted(set(ds[level].values.tolist())):
        sub = ds.isel(enterprise=(ds[level] == key).values)
        t = inv.totals(by, ds=sub)[_COLUMNS].reset_index()
        t.insert(1, "level", key)
        frames.append(t)
    return pd.concat(frames, ignore_index=True).sort_values(["period", "level"], ignore_index=True)


def export_inventory(
    run: AccountRun,
    fmt: str,
    by: str = "month",
    level: str = "park",
    path: str | Path | None = None,
) -> str | bytes:
    """Render the inventory as ``csv``, ``json`` or ``xlsx``.

    JSON is the documented ``carbontwin.inventory/1`` document, with the validation
    summary and the quarantined rows added under ``validation``. XLSX holds the summary,
    the emissions by enterprise, the energy, the trace and the quarantine.
    """
    if fmt == "json":
        doc = run.inventory.to_json(by, level=level)
        doc["validation"] = {
            "summary": run.validation.summary(),
            "quarantine": [
                {"rule": q.rule, "reason": q.reason, "ref": q.ref}
                for q in run.validation.quarantine
            ],
        }
        text = json.dumps(doc, ensure_ascii=False, indent=2)
        if path:
            Path(path).write_text(text, encoding="utf-8")
        return text
    table = summary_table(run, by, level)
    if fmt == "csv":
        text = table.to_csv(index=False)
        if path:
            Path(path).write_text(text, encoding="utf-8")
        return text
    if fmt == "xlsx":
        buf = io.BytesIO()
        ds = run.inventory.dataset(by)
        emissions = ds.emissions_tco2e.to_dataframe().reset_index()
        emissions = emissions[emissions.emissions_tco2e != 0]
        energy = ds[["energy_physical", "energy_tce", "energy_tce_equivalent"]].to_dataframe()
        energy = energy[energy.energy_physical != 0].reset_index()
        quarantine = pd.DataFrame([q.model_dump() for q in run.validation.quarantine])
        with pd.ExcelWriter(buf, engine="openpyxl") as xl:
            table.to_excel(xl, sheet_name="summary", index=False)
            emissions.drop(
                columns=["zone", "industry", "enterprise_name", "gwp"], errors="ignore"
            ).to_excel(xl, sheet_name="emissions", index=False)
            energy.drop(
                columns=["zone", "industry", "enterprise_name", "carrier_unit"], errors="ignore"
            ).to_excel(xl, sheet_name="energy", index=False)
            run.inventory.trace().to_excel(xl, sheet_name="trace", index=False)
            quarantine.to_excel(xl, sheet_name="quarantine", index=False)
        data = buf.getvalue()
        if path:
            Path(path).write_bytes(data)
        return data
    msg = f"format {fmt!r} is not known; use table, csv, json or xlsx"
    raise ValidationError(msg)
