"""Process lines: production on a schedule or in batches, energy and materials per tonne.

Examples
--------
>>> from carbontwin.core.assets import ProcessLine
>>> line = ProcessLine(id="L", product="lime", capacity_t_per_h=20.0,
...     electricity_kwh_per_t=50.0, idle_electricity_kw=100.0, process_co2_t_per_t=1.7)
>>> flows = process_flows(np.array([10.0]), line)
>>> float(flows["electricity"][0]), float(flows["process_co2"][0])
(600.0, 17.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from carbontwin.core.assets import ProcessLine

__all__ = ["FLOWS", "SIGNALS", "ProcessLines", "process_flows"]

#: Flows of a line per tonne of product: signal → (field of the intensity, unit).
FLOWS: dict[str, tuple[str, str]] = {
    "steam": ("steam_t_per_t", "t"),
    "fuel_gas": ("gas_1e4nm3_per_t", "wNm3"),
    "feedstock_gas": ("feedstock_gas_1e4nm3_per_t", "wNm3"),
    "solid_fuel": ("solid_fuel_t_per_t", "t"),
    "raw_material": ("raw_material_t_per_t", "t"),
    "residue": ("residue_t_per_t", "t"),
    "process_co2": ("process_co2_t_per_t", "t"),
    "co2_recovered": ("co2_recovered_1e4nm3_per_t", "wNm3"),
    "cod_removed": ("cod_removed_t_per_t", "t"),
}

#: Signals of a ``process`` asset: name → (unit, ``flow`` or ``state``).
SIGNALS: dict[str, tuple[str, str]] = {
    "production": ("t", "flow"),
    "electricity": ("kWh", "flow"),
    **{name: (unit, "flow") for name, (_, unit) in FLOWS.items()},
}


def process_flows(production_t_per_h: np.ndarray, line: ProcessLine) -> dict[str, np.ndarray]:
    """Flows of a line at a production rate.

    Parameters
    ----------
    production_t_per_h : numpy.ndarray
        Production rate [t/h].
    line : ProcessLine
        The line's intensities.

    Returns
    -------
    dict of str to numpy.ndarray
        ``production`` [t/h], ``electricity`` [kW] (auxiliaries plus the energy per
        tonne) and every flow of :data:`FLOWS` [t/h or 10^4 Nm3/h].
    """
    out = {
        "production": production_t_per_h,
        "electricity": line.idle_electricity_kw + production_t_per_h * line.electricity_kwh_per_t,
    }
    for name, (attr, _) in FLOWS.items():
        out[name] = production_t_per_h * float(getattr(line, attr))
    return out


class ProcessLines:
    """The process lines of a park, as arrays (one entry per line).

    Each step the simulator records ``factor`` (the line's rate setpoint, and for batch
    lines whether a batch is running); the rate is ``factor × profile`` where the profile
    is ``capacity × utilisation × schedule × noise`` for continuous lines and the capacity
    for batch lines.
    """

    def __init__(self, assets: Sequence[ProcessLine]) -> None:
        self.assets = list(assets)
        self.ids = [a.id for a in self.assets]
        self.capacity_t_per_h = np.array([a.capacity_t_per_h for a in self.assets], dtype=float)
        self.batch = np.array([a.operation == "batch" for a in self.assets], dtype=bool)
        #: Rate setpoint of each line [fraction of its profile].
        self.rate_frac = np.ones(len(self.assets))
        #: Batch lines: whether a batch runs now (set by their simpy processes).
        self.running = np.zeros(len(self.assets))
        #: Batch lines: local hour of the first batch, a setpoint.
        self.start_h = np.array([a.start_h for a in self.assets], dtype=float)

    def __len__(self) -> int:
        return len(self.assets)

    def factor(self) -> np.ndarray:
        """Return the factor recorded each step: the rate setpoint, × running for batches."""
        return np.where(self.batch, self.running * self.rate_frac, self.rate_frac)
