"""Time: periods, local calendar days and the one place that converts to UTC.

pandas indexes are timezone-aware and labelled by interval start. xarray and solvers hold
UTC with the zone in ``attrs["timezone"]``; only this module converts.

Examples
--------
>>> parse_period("2025-Q2")
Period(label='2025-Q2', start=datetime.date(2025, 4, 1), end=datetime.date(2025, 6, 30))
>>> parse_period("2025-02").days
28
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError

__all__ = [
    "Period",
    "day_edges",
    "parse_period",
    "period_groups",
    "require_aware",
    "to_utc",
]


@dataclass(frozen=True)
class Period:
    """A reporting period of whole local days, ``start`` to ``end`` inclusive."""

    label: str
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def parse_period(text: str) -> Period:
    """Parse ``2025``, ``2025-Q1``, ``2025-03``, ``2025-03-15`` or ``START/END``.

    Raises
    ------
    ValidationError
        If the text is none of these forms, or END is before START.
    """
    s = str(text).strip()
    try:
        if re.fullmatch(r"\d{4}", s):
            y = int(s)
            return Period(s, dt.date(y, 1, 1), dt.date(y, 12, 31))
        m = re.fullmatch(r"(\d{4})-Q([1-4])", s, flags=re.IGNORECASE)
        if m:
            y, q = int(m.group(1)), int(m.group(2))
            start = dt.date(y, 3 * q - 2, 1)
            end = (pd.Timestamp(start) + pd.offsets.QuarterEnd(0)).date()
            return Period(f"{y}-Q{q}", start, end)
        if re.fullmatch(r"\d{4}-\d{2}", s):
            start = dt.date.fromisoformat(s + "-01")
            end = (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date()
            return Period(s, start, end)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            d = dt.date.fromisoformat(s)
            return Period(s, d, d)
        if "/" in s:
            a, b = (part.strip() for part in s.split("/", 1))
            start, end = parse_period(a).start, parse_period(b).end
            if end < start:
                msg = f"period {s!r}: end {end} is before start {start}"
                raise ValidationError(msg)
            return Period(s, start, end)
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        msg = f"period {s!r} is not a valid date ({exc})"
        raise ValidationError(msg) from exc
    msg = (
        f"period {s!r} is not understood; write 2025, 2025-Q1, 2025-03, 2025-03-15 "
        "or 2025-01-01/2025-06-30"
    )
    raise ValidationError(msg)


def require_aware(index: pd.DatetimeIndex, what: str = "index") -> None:
    """Raise if ``index`` is naive: local days cannot be found without a time zone."""
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        msg = (
            f"{what} must be a timezone-aware DatetimeIndex; localise it first, e.g. "
            "index.tz_localize('Asia/Shanghai')"
        )
        raise ValidationError(msg)


def to_utc(index: pd.DatetimeIndex) -> tuple[np.ndarray, str]:
    """Return the index as UTC ``datetime64[ns]`` values and its zone name."""
    require_aware(index)
    return index.tz_convert("UTC").tz_localize(None).as_unit("ns").to_numpy(), str(index.tz)


def day_edges(index: pd.DatetimeIndex, timezone: str) -> tuple[list[dt.date], np.ndarray]:
    """Find the local calendar days covered by an interval index.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Timezone-aware, sorted, labelled by interval start.
    timezone : str
        The park's zone; days are local days there.

    Returns
    -------
    days : list of datetime.date
        Each local day that has at least one interval.
    starts : numpy.ndarray
        Position in ``index`` of the first interval of each day, for ``np.add.reduceat``.
    """
    require_aware(index)
    if len(index) == 0:
        return [], np.zeros(0, dtype=np.intp)
    local = index.tz_convert(timezone)
    # Integer day numbers of the local wall clock: cheap even for a year of 1-min data.
    offset = local.tz_localize(None).as_unit("s").asi8 // 86_400
    if len(offset) > 1 and np.any(np.diff(offset) < 0):
        msg = "interval index must be sorted in time"
        raise ValidationError(msg)
    change = np.flatnonzero(np.diff(offset)) + 1
    starts = np.concatenate(([0], change)).astype(np.intp)
    epoch = dt.date(1970, 1, 1)
    days = [epoch + dt.timedelta(days=int(d)) for d in offset[starts]]
    return days, starts


def period_groups(
    days: list[dt.date], by: str, periods: list[Period] | None = None
) -> tuple[list[str], np.ndarray]:
    """Assign each day to a reporting period.

    Parameters
    ----------
    days : list of datetime.date
        Consecutive local days.
    by : {'year', 'quarter', 'month', 'day', 'custom'}
        The grouping; ``custom`` uses ``periods``.
    periods : list of Period, optional
        Custom periods (may overlap; each day belongs to the first that holds it).

    Returns
    -------
    labels : list of str
        Period labels in time order.
    code : numpy.ndarray
        Index into ``labels`` for each day, ``-1`` where a day is in no custom period.
    """
    if by == "custom":
        if not periods:
            msg = "by='custom' needs a list of periods"
            raise ValidationError(msg)
        labels = [p.label for p in periods]
        code = np.full(len(days), -1, dtype=np.intp)
        for i, d in enumerate(days):
            for j, p in enumerate(periods):
                if d in p:
                    code[i] = j
                    break
        return labels, code
    fmt = {
        "year": lambda d: f"{d.year}",
        "quarter": lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}",
        "month": lambda d: f"{d.year}-{d.month:02d}",
        "day": lambda d: d.isoformat(),
    }
    if by not in fmt:
        msg = f"by={by!r} is not a grouping; use year, quarter, month, day or custom"
        raise ValidationError(msg)
    names = [fmt[by](d) for d in days]
    labels = list(dict.fromkeys(names))
    pos = {name: i for i, name in enumerate(labels)}
    return labels, np.fromiter((pos[n] for n in names), dtype=np.intp, count=len(names))
