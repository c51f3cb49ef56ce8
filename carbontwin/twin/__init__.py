"""The digital twin: plant models, the park simulator, control and the live twin state.

The simulator is the virtual park — for the demo, for testing every other part, for
what-if studies and closed-loop control; :class:`TwinState` mirrors a park from its
incoming readings.
"""

from carbontwin.twin.clock import SimClock
from carbontwin.twin.control import (
    BaselineController,
    Controller,
    ControlState,
    FixedSetpoints,
    Setpoint,
    setpoints,
)
from carbontwin.twin.faults import FAULT_CODES, FaultInjector
from carbontwin.twin.simulator import (
    HISTORY_S,
    SIGNALS,
    Chunk,
    Kpis,
    SimulationResult,
    Simulator,
    simulate,
)
from carbontwin.twin.state import TwinState
from carbontwin.twin.tariff import tou_price_cny_per_kwh
from carbontwin.twin.weather import typical_weather, weather_on_steps
from carbontwin.twin.whatif import (
    AddBattery,
    AddPv,
    Modification,
    SetParameter,
    SetSchedule,
    SetSetpoint,
    WhatIf,
    apply_modifications,
    compare_kpis,
    emissions_tco2e,
    what_if,
)

__all__ = [
    "FAULT_CODES",
    "HISTORY_S",
    "SIGNALS",
    "AddBattery",
    "AddPv",
    "BaselineController",
    "Chunk",
    "ControlState",
    "Controller",
    "FaultInjector",
    "FixedSetpoints",
    "Kpis",
    "Modification",
    "SetParameter",
    "SetSchedule",
    "SetSetpoint",
    "Setpoint",
    "SimClock",
    "SimulationResult",
    "Simulator",
    "TwinState",
    "WhatIf",
    "apply_modifications",
    "compare_kpis",
    "emissions_tco2e",
    "setpoints",
    "simulate",
    "tou_price_cny_per_kwh",
    "typical_weather",
    "weather_on_steps",
    "what_if",
]
