"""Metering points: what a meter measures, in which unit, and how it reports."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from carbontwin.core.carriers import carrier
from carbontwin.core.fields import quantity

__all__ = ["MeteringPoint"]


class MeteringPoint(BaseModel):
    """A metering point (a meter register, a BMS value, a CEMS channel).

    ``kind='cumulative'`` is a register that counts up (and may roll over at
    ``rollover``); ``kind='interval'`` reports the amount in each interval.
    """

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str = ""
    enterprise: str
    source: str | None = Field(None, description="the source whose activity it measures")
    stream: str = ""
    carrier: str
    unit: str
    kind: Literal["interval", "cumulative", "instantaneous"] = "interval"
    rollover: float | None = quantity("point unit", "register value at which it wraps", None, gt=0)
    min_value: float | None = quantity("point unit", "lowest plausible value", None)
    max_value: float | None = quantity("point unit", "highest plausible value", None)
    interval_s: int = quantity("s", "reporting interval", 900, gt=0)
    protocol: dict[str, str | int | float] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)

    def model_post_init(self, _context: object) -> None:
        """Check the carrier id."""
        carrier(self.carrier)
