"""Weekly schedules evaluated on the simulation's steps.

Examples
--------
>>> from carbontwin.core.operation import Schedule
>>> office = Schedule(days="mon-fri", start_h=8, end_h=18, off_frac=0.1)
>>> schedule_frac(office, np.array([7.5, 8.0, 17.99, 18.0]), np.zeros(4, int),
...     np.zeros(4, bool)).tolist()
[0.1, 1.0, 1.0, 0.1]
"""

from __future__ import annotations

import numpy as np

from carbontwin.core.errors import ValidationError
from carbontwin.core.operation import Schedule, TwinSettings

__all__ = ["ALWAYS", "resolve_schedule", "schedule_frac"]

#: The built-in schedule ``"always"``: level 1 at every hour of every day.
ALWAYS = Schedule(days="all", start_h=0.0, end_h=24.0, holidays_off=False)


def resolve_schedule(settings: TwinSettings, name: str, asset_id: str = "") -> Schedule:
    """Return the schedule ``name`` of the park (``"always"`` is built in).

    Raises
    ------
    ValidationError
        Naming the asset and the known schedules when ``name`` is not defined.
    """
    if name in settings.schedules:
        return settings.schedules[name]
    if name == "always":
        return ALWAYS
    known = ", ".join(sorted({"always", *settings.schedules}))
    where = f"asset {asset_id}: " if asset_id else ""
    msg = f"{where}schedule {name!r} is not defined in park.twin.schedules (known: {known})"
    raise ValidationError(msg)


def schedule_frac(
    schedule: Schedule, hour: np.ndarray, weekday: np.ndarray, holiday: np.ndarray
) -> np.ndarray:
    """Level of ``schedule`` at local hours [h] on weekdays (0 = Monday) [fraction].

    Hours from ``start_h`` up to ``end_h`` on the schedule's days take ``on_frac``; a
    schedule with ``end_h < start_h`` runs over midnight (the hours after midnight belong
    to the day it started). Holidays count as other days unless ``holidays_off`` is false.
    A ``profile`` multiplies the level by its hourly factor, interpolated linearly between
    whole hours (23:00 to 24:00 towards hour 0's factor).
    """
    days = np.zeros(7, dtype=bool)
    days[list(schedule.weekdays())] = True
    lo, hi = schedule.start_h, schedule.end_h
    working = days[weekday] & ~(holiday & schedule.holidays_off)
    if hi > lo:
        on = working & (hour >= lo) & (hour < hi)
    else:  # overnight: tonight's late hours and this morning's early ones of yesterday
        yesterday = days[(weekday - 1) % 7]
        on = (working & (hour >= lo)) | (yesterday & (hour < hi))
    level = np.where(on, schedule.on_frac, schedule.off_frac)
    if schedule.profile is not None:
        shape = np.asarray([*schedule.profile, schedule.profile[0]], dtype=float)
        level = level * np.interp(np.mod(hour, 24.0), np.arange(25.0), shape)
    return level
