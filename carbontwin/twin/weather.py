"""Weather that drives the simulator: a shipped typical year, or a real series.

A *typical year* is 8,760 hourly rows (row ``h`` = the hour starting ``h`` hours after
1 January 00:00 local time); each hour of a run takes the row of the same local hour of
the year. A *series* is a frame indexed by timezone-aware timestamps covering the run.
Either way values are interpolated linearly to the middle of each simulation step, the
hour means standing at the middle of their hour.

Columns: ``temp_air_c`` [°C], ``relative_humidity_pct`` [%], ``dni_w_per_m2`` and
``dhi_w_per_m2`` [W/m²] (``ghi_w_per_m2`` is recomputed from them with the sun's
position at the park).

Examples
--------
>>> w = typical_weather()
>>> len(w), list(w.columns)[:2]
(8760, ['temp_air_c', 'relative_humidity_pct'])
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import pandas as pd

from carbontwin.core.errors import ValidationError
from carbontwin.twin.clock import SimClock

__all__ = ["COLUMNS", "typical_weather", "weather_on_steps"]

#: The columns the simulator reads.
COLUMNS = ("temp_air_c", "relative_humidity_pct", "dni_w_per_m2", "dhi_w_per_m2")
_FILES = {"citylearn2022": "weather_citylearn2022.csv.gz"}


@functools.lru_cache(maxsize=4)
def _read(name: str) -> pd.DataFrame:
    with resources.files("carbontwin.twin").joinpath(f"data/{_FILES[name]}").open("rb") as fh:
        frame = pd.read_csv(fh, compression="gzip")
    return frame.set_index("hour")


def typical_weather(name: str = "citylearn2022") -> pd.DataFrame:
    """Return a shipped typical year of hourly weather (see ``twin/data/README.md``).

    Raises
    ------
    ValidationError
        If ``name`` is not a shipped weather file.
    """
    if name not in _FILES:
        msg = f"weather {name!r} is not shipped; use one of {', '.join(sorted(_FILES))}"
        raise ValidationError(msg)
    return _read(name).copy()


def _check(frame: pd.DataFrame) -> None:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        msg = (
            f"weather has no column {', '.join(missing)}; it needs {', '.join(COLUMNS)} "
            "(temperatures in °C, humidity in %, irradiance in W/m²)"
        )
        raise ValidationError(msg)


def weather_on_steps(
    frame: pd.DataFrame, clock: SimClock, first_step: int, n: int
) -> dict[str, np.ndarray]:
    """Interpolate weather to the middle of ``n`` steps from ``first_step``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A typical year (8,760 rows, not indexed by time) or a series indexed by
        timezone-aware timestamps that covers the steps.
    clock : SimClock
        The run's clock.
    first_step, n : int
        The steps.

    Returns
    -------
    dict of str to numpy.ndarray
        One array of ``n`` values per column of :data:`COLUMNS`.

    Raises
    ------
    ValidationError
        If a column is missing, a series is naive or does not cover the steps.
    """
    _check(frame)
    mid_ns = clock.start.value + (
        (first_step + np.arange(n) + 0.5) * clock.step_s * 1_000_000_000
    ).astype(np.int64)
    if isinstance(frame.index, pd.DatetimeIndex):
        if frame.index.tz is None:
            msg = "a weather series needs a timezone-aware index; localise it first"
            raise ValidationError(msg)
        idx = frame.index.as_unit("ns")
        stamps = idx.asi8
        if len(idx) > 1:
            # Hour (or interval) means stand at the middle of their interval.
            stamps = stamps + (np.median(np.diff(stamps)) // 2).astype(np.int64)
        if mid_ns[0] < stamps[0] - 3_600_000_000_000 or mid_ns[-1] > stamps[-1] + 3_600_000_000_000:
            msg = (
                f"weather series covers {idx[0]} to {idx[-1]}, not the run's steps "
                f"{clock.timestamp(first_step * clock.step_s)} onwards; give weather for the "
                "whole run or the typical year"
            )
            raise ValidationError(msg)
        x, xp, period = mid_ns.astype(float), stamps.astype(float), None
    else:
        if len(frame) != 8760:
            msg = f"a typical year has 8760 hourly rows, this one {len(frame)}"
            raise ValidationError(msg)
        local = pd.DatetimeIndex(mid_ns.astype("datetime64[ns]")).tz_localize("UTC")
        naive = local.tz_convert(clock.timezone).tz_localize(None)
        of_day = (naive - naive.normalize()).total_seconds().to_numpy() / 3600.0
        x = (naive.day_of_year.to_numpy() - 1) * 24.0 + of_day
        xp, period = np.arange(8760) + 0.5, 8760.0
    out = {}
    for col in COLUMNS:
        fp = frame[col].to_numpy(dtype=float)
        out[col] = np.interp(x, xp, fp, period=period)
    return out
