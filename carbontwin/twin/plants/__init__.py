"""Plant models, one module per asset block: pure functions and arrays for N devices."""

from carbontwin.twin.plants import (
    battery,
    boiler,
    chp,
    ev,
    generator,
    grid,
    load,
    meter,
    process,
    pump,
    pv,
    zone,
)

__all__ = [
    "battery",
    "boiler",
    "chp",
    "ev",
    "generator",
    "grid",
    "load",
    "meter",
    "process",
    "pump",
    "pv",
    "zone",
]
