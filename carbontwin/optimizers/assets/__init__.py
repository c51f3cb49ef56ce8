"""The park's flexible assets beyond batteries, one module per asset block.

Each module declares the asset's data (a frozen dataclass of arrays) and writes its part
of the dispatch model three times from one formulation: a vectorised matrix block
(``*_block``), Pyomo components for the reference (``add_*``) and a check of a solution's
arrays (``check_*``). :data:`ASSETS` lists them in the order the model stacks their
blocks; a :class:`~carbontwin.optimizers.problem.DispatchProblem` field of the same name
holds each (``None`` for none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from carbontwin.optimizers.assets import ev, flexible, hvac, shift, thermal
from carbontwin.optimizers.assets._common import Block, Context
from carbontwin.optimizers.assets.ev import EvSessions
from carbontwin.optimizers.assets.flexible import FlexibleLoads
from carbontwin.optimizers.assets.hvac import HvacZones
from carbontwin.optimizers.assets.shift import ShiftableLoads
from carbontwin.optimizers.assets.thermal import HeatPlant

__all__ = [
    "ASSETS",
    "AssetKind",
    "Block",
    "Context",
    "EvSessions",
    "FlexibleLoads",
    "HeatPlant",
    "HvacZones",
    "ShiftableLoads",
]


@dataclass(frozen=True)
class AssetKind:
    """How the dispatch handles one kind of asset.

    Parameters
    ----------
    name : str
        The :class:`~carbontwin.optimizers.problem.DispatchProblem` field and result key.
    cls : type
        The asset's data class.
    block : callable
        ``block(asset, ctx) -> Block`` for the matrix path.
    outputs : callable
        ``outputs(asset, values, interval_h) -> dict`` result arrays from a block's values.
    add : callable
        ``add(model, asset, problem) -> (load by step, cost, emissions)`` for Pyomo.
    read : callable
        ``read(model, asset, steps) -> values`` from a solved Pyomo model.
    check : callable
        ``check(asset, arrays, problem) -> (violations, load_kw, cost parts, emissions)``.
    baseline : callable
        ``baseline(asset, problem) -> values``: a rule-based schedule, for fallbacks.
    """

    name: str
    cls: type
    block: Callable[[Any, Context], Block]
    outputs: Callable[[Any, dict[str, np.ndarray], float], dict[str, np.ndarray]]
    add: Callable[[Any, Any, Any], tuple[Any, Any, Any]]
    read: Callable[[Any, Any, int], dict[str, np.ndarray]]
    check: Callable[[Any, dict[str, np.ndarray], Any], tuple[Any, ...]]
    baseline: Callable[[Any, Any], dict[str, np.ndarray]]


#: The asset kinds, in the order their blocks follow the battery model.
ASSETS: tuple[AssetKind, ...] = (
    AssetKind(
        "hvac",
        HvacZones,
        hvac.hvac_block,
        lambda a, v, dt: hvac.hvac_outputs(v, dt),
        hvac.add_hvac,
        hvac.read_hvac,
        hvac.check_hvac,
        hvac.baseline_hvac,
    ),
    AssetKind(
        "ev",
        EvSessions,
        ev.ev_block,
        ev.ev_outputs,
        ev.add_ev,
        ev.read_ev,
        ev.check_ev,
        ev.baseline_ev,
    ),
    AssetKind(
        "shift",
        ShiftableLoads,
        shift.shift_block,
        lambda a, v, dt: shift.shift_outputs(a, v),
        shift.add_shift,
        shift.read_shift,
        shift.check_shift,
        shift.baseline_shift,
    ),
    AssetKind(
        "flexible",
        FlexibleLoads,
        flexible.flexible_block,
        lambda a, v, dt: dict(v),
        flexible.add_flexible,
        flexible.read_flexible,
        flexible.check_flexible,
        flexible.baseline_flexible,
    ),
    AssetKind(
        "thermal",
        HeatPlant,
        thermal.thermal_block,
        lambda a, v, dt: thermal.thermal_outputs(a, v),
        thermal.add_thermal,
        thermal.read_thermal,
        thermal.check_thermal,
        thermal.baseline_thermal,
    ),
)
