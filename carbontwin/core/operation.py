"""How the park operates: schedules, tariff, prices, fault rates and the twin's settings.

These park-level settings sit under ``park.twin`` in the park file. The simulator reads
them with the assets' own parameters; the live twin reads the staleness factor.

Examples
--------
>>> s = Schedule(days="mon-fri", start_h=8, end_h=18)
>>> s.weekdays()
(0, 1, 2, 3, 4)
>>> tariff = Tariff()
>>> [p.name for p in tariff.periods]
['peak', 'flat', 'valley']
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carbontwin.core.fields import quantity

__all__ = [
    "FaultRates",
    "Schedule",
    "Tariff",
    "TouPeriod",
    "TwinSettings",
    "parse_hours",
    "parse_weekdays",
]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekdays(text: str) -> tuple[int, ...]:
    """Parse weekdays such as ``"mon-fri"``, ``"sat,sun"`` or ``"all"`` (0 = Monday).

    Examples
    --------
    >>> parse_weekdays("mon-wed,sat")
    (0, 1, 2, 5)
    """
    s = text.strip().lower()
    if s in ("all", "daily", "mon-sun"):
        return tuple(range(7))
    out: set[int] = set()
    for part in s.split(","):
        a, _, b = part.strip().partition("-")
        if a not in _DAYS or (b and b not in _DAYS):
            msg = (
                f"days {text!r} is not understood; write day names such as 'mon-fri', "
                "'sat,sun' or 'all'"
            )
            raise ValueError(msg)
        lo, hi = _DAYS.index(a), _DAYS.index(b or a)
        if hi < lo:
            msg = f"days {text!r}: range {part.strip()!r} runs backwards; write e.g. 'mon-fri'"
            raise ValueError(msg)
        out.update(range(lo, hi + 1))
    return tuple(sorted(out))


def parse_hours(text: str) -> tuple[tuple[float, float], ...]:
    """Parse local hour ranges such as ``"8-11,17-22"`` into ``((8, 11), (17, 22))`` [h].

    A range may wrap midnight (``"22-6"`` is 22:00 to 06:00).

    Examples
    --------
    >>> parse_hours("0-8, 22-24")
    ((0.0, 8.0), (22.0, 24.0))
    """
    out = []
    for part in text.split(","):
        a, sep, b = part.strip().partition("-")
        try:
            lo, hi = float(a), float(b)
        except ValueError:
            lo = hi = -1.0
        if not sep or not (0 <= lo <= 24 and 0 <= hi <= 24) or lo == hi:
            msg = f"hours {text!r} is not understood; write ranges of local hours like '8-11,17-22'"
            raise ValueError(msg)
        out.append((lo, hi))
    return tuple(out)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Schedule(_Model):
    """A weekly schedule: a level during the hours on the days, another level outside.

    Occupancy of a building, the shifts of a line, the inflow of a treatment plant: each
    is a schedule named in ``park.twin.schedules`` and referred to by assets.
    """

    days: str = Field("mon-fri", description="weekdays it applies, e.g. 'mon-fri' or 'all'")
    start_h: float = quantity("h", "local hour the level starts", 0.0, ge=0, le=24)
    end_h: float = quantity("h", "local hour the level ends (may be before start_h)", 24.0)
    on_frac: float = quantity("frac", "level during the hours", 1.0, ge=0)
    off_frac: float = quantity("frac", "level outside the hours and on other days", 0.0, ge=0)
    holidays_off: bool = Field(True, description="public holidays count as other days")
    profile: list[float] | None = quantity(
        "frac",
        "hourly shape: 24 factors at local hours 0..23, linear in between, multiplying the "
        "level at every hour (e.g. a data centre's daily utilisation)",
        None,
    )

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        if len(v) != 24:
            msg = f"profile has {len(v)} values; give 24, one per local hour 0..23"
            raise ValueError(msg)
        if min(v) < 0:
            msg = f"profile value {min(v)} must be >= 0 (a factor of the level)"
            raise ValueError(msg)
        return v

    @field_validator("days")
    @classmethod
    def _days(cls, v: str) -> str:
        parse_weekdays(v)
        return v

    @field_validator("end_h")
    @classmethod
    def _end(cls, v: float) -> float:
        if not 0 <= v <= 24:
            msg = f"end_h(={v}) must be a local hour between 0 and 24"
            raise ValueError(msg)
        return v

    def weekdays(self) -> tuple[int, ...]:
        """Return the weekdays the level applies on (0 = Monday)."""
        return parse_weekdays(self.days)


class TouPeriod(_Model):
    """One period of a time-of-use electricity tariff."""

    name: str = Field(description="e.g. 'peak', 'flat', 'valley'")
    price_cny_per_kwh: float = quantity("CNY/kWh", "energy price in the period", ge=0)
    hours: str = Field(description="local hour ranges, e.g. '8-11,17-22'")
    months: str = Field("all", description="months it applies, e.g. '7,8' or 'all'")

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: str) -> str:
        parse_hours(v)
        return v

    @field_validator("months")
    @classmethod
    def _months(cls, v: str) -> str:
        if v.strip().lower() == "all":
            return v
        try:
            months = [int(m) for m in v.split(",")]
        except ValueError:
            months = [0]
        if not all(1 <= m <= 12 for m in months):
            msg = f"months {v!r} is not understood; write 'all' or month numbers like '7,8'"
            raise ValueError(msg)
        return v

    def month_list(self) -> tuple[int, ...]:
        """Return the months (1–12) the period applies in."""
        if self.months.strip().lower() == "all":
            return tuple(range(1, 13))
        return tuple(int(m) for m in self.months.split(","))


def _default_periods() -> list[TouPeriod]:
    return [
        TouPeriod(name="peak", price_cny_per_kwh=1.05, hours="8-11,17-22"),
        TouPeriod(name="flat", price_cny_per_kwh=0.65, hours="11-17,22-24"),
        TouPeriod(name="valley", price_cny_per_kwh=0.30, hours="0-8"),
    ]


class Tariff(_Model):
    """Prices: a time-of-use electricity tariff, a demand charge and fuel prices.

    Later periods in the list take precedence where their hours and months overlap
    earlier ones (a summer critical peak listed last overrides the peak).
    """

    periods: list[TouPeriod] = Field(default_factory=_default_periods)
    demand_charge_cny_per_kw_month: float = quantity(
        "CNY/(kW month)", "charge on each month's highest 15-min demand", 0.0, ge=0
    )
    export_price_cny_per_kwh: float = quantity(
        "CNY/kWh", "price paid for electricity exported to the grid", 0.0, ge=0
    )
    chp_price_cny_per_kwh: float = quantity(
        "CNY/kWh", "internal price of electricity bought from the self-owned plant", 0.0, ge=0
    )
    steam_price_cny_per_t: float = quantity(
        "CNY/t", "internal price of steam bought from another enterprise", 0.0, ge=0
    )
    coal_price_cny_per_t: float = quantity("CNY/t", "coal price", 0.0, ge=0)
    coke_price_cny_per_t: float = quantity("CNY/t", "coke price", 0.0, ge=0)
    gas_price_cny_per_1e4nm3: float = quantity("CNY/10^4 Nm3", "natural gas price", 0.0, ge=0)
    diesel_price_cny_per_t: float = quantity("CNY/t", "diesel price", 0.0, ge=0)
    carbon_price_cny_per_tco2: float = quantity(
        "CNY/t",
        "price the optimisers put on each tonne of CO2 (an ETS price or an internal one)",
        0.0,
        ge=0,
    )

    @model_validator(mode="after")
    def _cover(self) -> Tariff:
        if not self.periods:
            msg = "a tariff needs at least one period; give 'periods' with prices and hours"
            raise ValueError(msg)
        return self


class FaultRates(_Model):
    """Sensor noise and the rates at which realistic faults are injected into readings.

    Rates are probabilities per reading of a point (``*_frac``); stuck values and clock
    skew last a number of readings once they start, a gain drift ``drift_days`` and an
    abnormal night load the rest of the night (``night_start_h`` to ``night_end_h``, which
    may wrap midnight). Faults change what a meter reports, never the simulated truth.
    """

    dropout_frac: float = quantity("frac", "a reading is lost", 0.0, ge=0, le=1)
    spike_frac: float = quantity("frac", "a reading is a spike", 0.0, ge=0, le=1)
    spike_factor: float = quantity("1", "a spike multiplies the value by this", 10.0, gt=0)
    stuck_frac: float = quantity("frac", "a stuck-value episode starts", 0.0, ge=0, le=1)
    stuck_readings: int = quantity("1", "readings a stuck value lasts", 12, ge=1)
    skew_frac: float = quantity("frac", "a clock-skew episode starts", 0.0, ge=0, le=1)
    skew_s: float = quantity("s", "largest clock offset of an episode", 120.0, ge=0)
    skew_readings: int = quantity("1", "readings a clock-skew episode lasts", 48, ge=1)
    reset_frac: float = quantity("frac", "a cumulative register resets to 0", 0.0, ge=0, le=1)
    drift_frac: float = quantity("frac", "a gain-drift episode starts", 0.0, ge=0, le=1)
    drift_frac_per_day: float = quantity(
        "1/d", "how fast a drifting meter's gain moves away from 1", 0.03, ge=0
    )
    drift_days: float = quantity("d", "how long a gain-drift episode lasts", 1.0, gt=0)
    night_load_frac: float = quantity(
        "frac", "an abnormal night load starts (per reading in the night hours)", 0.0, ge=0, le=1
    )
    night_load_factor: float = quantity(
        "1", "an abnormal night load multiplies the value by this", 1.5, gt=0
    )
    night_start_h: float = quantity("h", "local hour the night starts", 22.0, ge=0, le=24)
    night_end_h: float = quantity("h", "local hour the night ends", 6.0, ge=0, le=24)
    noise_frac: float = quantity(
        "frac", "relative standard deviation of noise on instantaneous readings", 0.0, ge=0
    )
    temp_noise_k: float = quantity(
        "K", "standard deviation of noise on temperature readings", 0.0, ge=0
    )

    @model_validator(mode="after")
    def _sum(self) -> FaultRates:
        total = (
            self.dropout_frac
            + self.spike_frac
            + self.stuck_frac
            + self.skew_frac
            + self.reset_frac
            + self.drift_frac
            + self.night_load_frac
        )
        if total > 1:
            msg = f"fault rates add up to {total:g}; their sum per reading must be at most 1"
            raise ValueError(msg)
        return self


class TwinSettings(_Model):
    """Settings of the park's digital twin: where it is, its weather, time and prices."""

    latitude_deg: float | None = quantity("deg", "latitude, north positive", None, ge=-90, le=90)
    longitude_deg: float | None = quantity("deg", "longitude, east positive", None, ge=-180, le=180)
    weather: str = Field(
        "citylearn2022", description="shipped typical-year weather the simulator uses by default"
    )
    step_s: int = quantity("s", "simulation step", 60, gt=0)
    control_interval_s: int = quantity("s", "how often the controller acts", 900, gt=0)
    schedules: dict[str, Schedule] = Field(default_factory=dict)
    holidays: list[dt.date] = Field(default_factory=list, description="public holidays")
    tariff: Tariff = Field(default_factory=Tariff)
    faults: FaultRates = Field(default_factory=FaultRates)
    stale_factor: float = quantity(
        "1", "a point is stale when older than this many of its intervals", 3.0, gt=0
    )
