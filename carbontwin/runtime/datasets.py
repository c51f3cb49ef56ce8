"""Open datasets shipped with carbontwin, read into pandas.

CityLearn 2022 (``carbontwin/data/citylearn2022``, MIT licence, see its README): one year
of measured hourly data of ten buildings — equipment electric load, building 1's PV output
per kW installed and the observed weather — used to test and benchmark the forecasters on
real, noisy data.
"""

from __future__ import annotations

import functools
from importlib.resources import files

import pandas as pd

__all__ = ["CITYLEARN_TZ", "CITYLEARN_WEATHER", "citylearn", "citylearn_frame", "citylearn_pv"]

CITYLEARN_FILE = "citylearn2022_buildings_1_10.csv.gz"
#: Local standard time of the buildings (Fontana, California; the data has no DST).
CITYLEARN_TZ = "Etc/GMT+8"
CITYLEARN_FIRST = "2016-07-31 23:00"
#: The weather columns (observed; a perfect weather forecast when used as one).
CITYLEARN_WEATHER = ["temp_air_c", "relative_humidity_pct", "dhi_w_per_m2", "dni_w_per_m2"]


@functools.lru_cache(maxsize=1)
def citylearn_frame() -> pd.DataFrame:
    """Return the CityLearn extract indexed by interval start (local standard time)."""
    path = files("carbontwin") / "data" / "citylearn2022" / CITYLEARN_FILE
    with path.open("rb") as fh:
        frame = pd.read_csv(fh, compression="gzip")
    frame.index = pd.date_range(
        CITYLEARN_FIRST, periods=len(frame), freq="h", tz=CITYLEARN_TZ, name="time"
    )
    return frame


def citylearn() -> tuple[pd.Series, pd.DataFrame]:
    """Return the load of buildings 1–10 [kWh per hour] and the observed weather."""
    frame = citylearn_frame()
    cols = [f"building_{i}_equipment_kwh" for i in range(1, 11)]
    load = frame[cols].sum(axis=1).rename("energy_kwh")
    return load, frame[CITYLEARN_WEATHER].copy()


def citylearn_pv() -> tuple[pd.Series, pd.DataFrame]:
    """Return building 1's PV output per kW installed [W/kW] and the observed weather."""
    frame = citylearn_frame()
    return frame["solar_generation_w_per_kw"].rename("pv_w_per_kw"), frame[CITYLEARN_WEATHER].copy()
