"""Records that flow through the platform.

Activity entries, interval data, statistics, factor overrides and quarantined rows.

Activity arrives two ways: as *interval data* from meters (a wide array, streams × time,
in canonical units) and as *entries* (a quantity over a date range, from ledgers, invoices
and manual input). Each entry keeps its origin and quality so every number can be traced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from carbontwin.core.errors import ValidationError
from carbontwin.core.fields import quantity
from carbontwin.core.time import require_aware

__all__ = [
    "ActivityEntry",
    "FactorOverride",
    "IntervalData",
    "QuarantineRecord",
    "Statistic",
    "stream_key",
]

Origin = Literal["manual", "file", "meter", "api", "collector", "simulator", "invoice"]
Quality = Literal["measured", "invoice", "estimated", "default"]


def stream_key(source: str, stream: str = "") -> str:
    """Return the key of an activity stream: ``source`` or ``source:stream``.

    Examples
    --------
    >>> stream_key("E01-boiler"), stream_key("E02-mb", "methanol")
    ('E01-boiler', 'E02-mb:methanol')
    """
    return f"{source}:{stream}" if stream else source


class ActivityEntry(BaseModel):
    """A quantity of activity over local days ``start`` to ``end`` inclusive.

    The quantity is in the canonical unit of the source's carrier once it has passed
    validation (``unit`` then equals the canonical unit).
    """

    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    source: str
    stream: str = ""
    start: dt.date
    end: dt.date
    quantity: float = quantity("unit", "amount of activity over the period")
    unit: str
    origin: Origin = "manual"
    quality: Quality = "measured"
    ref: str = Field("", description="where the number comes from: file and row, invoice no.")
    entered_by: str = ""

    @model_validator(mode="after")
    def _dates(self) -> ActivityEntry:
        if self.end < self.start:
            msg = f"end {self.end} is before start {self.start}"
            raise ValueError(msg)
        return self

    @property
    def key(self) -> str:
        """Stream key of the entry."""
        return stream_key(self.source, self.stream)


class Statistic(BaseModel):
    """A statistic of an enterprise or the park over a period.

    Value added, output of a product, floor area: the denominators of intensity indicators.
    """

    model_config = ConfigDict(extra="forbid")
    entity: str = Field(description="enterprise id, or 'park'")
    name: str = Field(description="e.g. 'value_added', 'output:methanol'")
    start: dt.date
    end: dt.date
    value: float = quantity("unit", "the statistic's value")
    unit: str
    ref: str = ""


class FactorOverride(BaseModel):
    """A user's replacement of a library factor for a park, enterprise or source.

    The most specific override wins (source > enterprise > park); an override applies on
    the days ``valid_from`` to ``valid_to`` inclusive (open-ended when ``None``).
    """

    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    factor: str = Field(description="factor key, e.g. 'ncv:natural_gas' or 'grid:national-2022'")
    value: float = quantity("unit", "the replacement value")
    unit: str
    applies_to: Literal["park", "enterprise", "source"] = "park"
    target: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    reason: str = Field(min_length=3, description="why the default does not apply")
    source: str = Field("", description="the document the value comes from")
    created_by: str = ""
    revoked: bool = False

    @model_validator(mode="after")
    def _target(self) -> FactorOverride:
        if self.applies_to != "park" and not self.target:
            msg = f"an override for one {self.applies_to} needs 'target' (its id)"
            raise ValueError(msg)
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            msg = f"valid_to {self.valid_to} is before valid_from {self.valid_from}"
            raise ValueError(msg)
        return self

    def covers(self, day: dt.date) -> bool:
        """Return whether the override applies on ``day``."""
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_to is None or day <= self.valid_to
        )

    @property
    def specificity(self) -> int:
        """0 for park, 1 for enterprise, 2 for source."""
        return {"park": 0, "enterprise": 1, "source": 2}[self.applies_to]


class QuarantineRecord(BaseModel):
    """A row that did not land, with the rule it broke and a reason a person can read."""

    model_config = ConfigDict(extra="forbid")
    rule: str
    reason: str
    origin: str = ""
    ref: str = ""
    row: dict[str, object] = Field(default_factory=dict)


@dataclass
class IntervalData:
    """Metered activity in canonical units, streams × time.

    ``values[i, t]`` is the amount of stream ``streams[i]`` in the interval starting at
    ``index[t]``.

    The wide layout (streams × time, C-contiguous) keeps a year of 15-min data for
    thousands of streams in one float64 block that reduces to days without a copy.
    """

    index: pd.DatetimeIndex
    streams: list[str]
    values: np.ndarray
    interval_h: float = 0.25
    refs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_aware(self.index, "IntervalData.index")
        if self.values.ndim != 2 or self.values.shape != (len(self.streams), len(self.index)):
            msg = (
                f"IntervalData.values has shape {self.values.shape}; expected "
                f"(streams={len(self.streams)}, time={len(self.index)})"
            )
            raise ValidationError(msg)
        if len(set(self.streams)) != len(self.streams):
            msg = "IntervalData.streams has duplicate stream keys"
            raise ValidationError(msg)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, interval_h: float = 0.25) -> IntervalData:
        """Build from a DataFrame indexed by time with one column per stream key."""
        values = np.ascontiguousarray(frame.to_numpy(dtype=np.float64).T)
        return cls(
            pd.DatetimeIndex(frame.index), [str(c) for c in frame.columns], values, interval_h
        )

    def to_frame(self) -> pd.DataFrame:
        """Return the data as a DataFrame (time × streams)."""
        return pd.DataFrame(self.values.T, index=self.index, columns=self.streams)
