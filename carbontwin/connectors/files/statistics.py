"""Statistics files: value added and product outputs, the denominators of indicators.

Columns: ``entity, name, start, end, value, unit, ref`` (entity is an enterprise id or
``park``; name is ``value_added`` or ``output:<product>``).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from carbontwin.connectors.files.reader import _read_table
from carbontwin.core.errors import UnitError
from carbontwin.core.records import QuarantineRecord, Statistic
from carbontwin.core.units import conversion_factor, parse_unit

__all__ = ["STATISTICS_COLUMNS", "read_statistics_file"]

STATISTICS_COLUMNS = ("entity", "name", "start", "end", "value", "unit", "ref")
#: The unit each kind of statistic must convert to.
_KIND_UNITS = {"value_added": "wCNY", "output": "t"}
_ZH = {
    "主体": "entity",
    "指标": "name",
    "开始日期": "start",
    "结束日期": "end",
    "数值": "value",
    "单位": "unit",
    "备注": "ref",
}


def _date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip().replace("/", "-"))


def read_statistics_file(path: str | Path) -> tuple[list[Statistic], list[QuarantineRecord]]:
    """Read a CSV or XLSX file of statistics.

    Returns
    -------
    statistics : list of Statistic
        The rows that are valid.
    quarantine : list of QuarantineRecord
        Each invalid row (or the whole file, rule ``file``) with a readable reason.
    """
    path = Path(path)
    table = _read_table(path)
    if isinstance(table, str):
        return [], [
            QuarantineRecord(
                rule="file", reason=f"{path.name} {table}", origin="file", ref=path.name
            )
        ]
    header = [_ZH.get(str(c).strip(), str(c).strip().lower()) for c in table.iloc[0]]
    missing = [c for c in STATISTICS_COLUMNS[:6] if c not in header]
    if missing:
        reason = (
            f"{path.name} has no column {', '.join(missing)}; the columns are "
            f"{', '.join(STATISTICS_COLUMNS)}"
        )
        return [], [QuarantineRecord(rule="file", reason=reason, origin="file", ref=path.name)]
    stats, bad = [], []
    for n, values in enumerate(table.iloc[1:].itertuples(index=False), start=2):
        row = {
            h: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
            for h, v in zip(header, values, strict=False)
        }
        if not any(str(v).strip() for v in row.values()):
            continue
        ref = str(row.get("ref") or f"{path.name} row {n}")
        try:
            parse_unit(str(row["unit"]))
            kind = str(row["name"]).strip().split(":", 1)[0]
            if kind in _KIND_UNITS:
                conversion_factor(str(row["unit"]), _KIND_UNITS[kind])
            stats.append(
                Statistic(
                    entity=str(row["entity"]).strip(),
                    name=str(row["name"]).strip(),
                    start=_date(row["start"]),
                    end=_date(row["end"]),
                    value=float(row["value"]),
                    unit=str(row["unit"]).strip(),
                    ref=ref,
                )
            )
        except (ValueError, UnitError, PydanticValidationError) as exc:
            reason = f"{path.name} row {n}: {exc}".splitlines()[0]
            bad.append(
                QuarantineRecord(
                    rule="bad_value",
                    reason=reason,
                    origin="file",
                    ref=ref,
                    row={k: str(v) for k, v in row.items()},
                )
            )
    return stats, bad
