"""Methodologies, one module each, registered by name.

A third party adds a method by publishing a :class:`Method` subclass under the entry-point
group ``carbontwin.methods``::

    [project.entry-points."carbontwin.methods"]
    my_method = "my_package.methods:MyMethod"

Examples
--------
>>> get_method("fuel_combustion").title_zh
'化石燃料燃烧'
>>> "nitrous_oxide" in method_names()
True
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points

from carbontwin.accounting.methods._base import (
    EnergyTerm,
    Method,
    MethodContext,
    Params,
    Term,
)
from carbontwin.accounting.methods.cems import Cems
from carbontwin.accounting.methods.electricity import ExportedElectricity, PurchasedElectricity
from carbontwin.accounting.methods.fuel_combustion import FuelCombustion
from carbontwin.accounting.methods.fugitive import Fugitive
from carbontwin.accounting.methods.heat import ExportedHeat, PurchasedHeat
from carbontwin.accounting.methods.offsets import Ccer, GreenElectricity
from carbontwin.accounting.methods.plant import PlantGeneration
from carbontwin.accounting.methods.process import Carbonates, CarbonMassBalance, NitrousOxide
from carbontwin.accounting.methods.recovery import Co2Recovery
from carbontwin.accounting.methods.scope3 import Scope3
from carbontwin.accounting.methods.waste import WasteIncineration, WastewaterCh4
from carbontwin.core.errors import ValidationError

__all__ = [
    "EnergyTerm",
    "Method",
    "MethodContext",
    "Params",
    "Term",
    "get_method",
    "method_names",
    "methods_reference",
    "register",
]

_BUILTIN: tuple[type[Method], ...] = (
    FuelCombustion,
    CarbonMassBalance,
    Carbonates,
    NitrousOxide,
    PurchasedElectricity,
    ExportedElectricity,
    PurchasedHeat,
    ExportedHeat,
    Co2Recovery,
    Cems,
    Fugitive,
    WasteIncineration,
    WastewaterCh4,
    Scope3,
    PlantGeneration,
    GreenElectricity,
    Ccer,
)
_REGISTRY: dict[str, Method] = {cls.name: cls() for cls in _BUILTIN}


def register(method: Method | type[Method]) -> Method:
    """Register a method instance or class under its ``name``; returns the instance."""
    instance = method() if isinstance(method, type) else method
    if not instance.name:
        msg = f"method {type(instance).__name__} has no name"
        raise ValidationError(msg)
    _REGISTRY[instance.name] = instance
    return instance


@functools.cache
def _load_entry_points() -> None:
    for ep in entry_points(group="carbontwin.methods"):
        register(ep.load())


def get_method(name: str) -> Method:
    """Return the method registered as ``name``.

    Raises
    ------
    ValidationError
        Naming the registered methods when ``name`` is not one of them.
    """
    if name not in _REGISTRY:
        _load_entry_points()
    try:
        return _REGISTRY[name]
    except KeyError:
        msg = f"method {name!r} is not registered; known: {', '.join(method_names())}"
        raise ValidationError(msg) from None


def method_names() -> list[str]:
    """Return the names of all registered methods."""
    _load_entry_points()
    return sorted(_REGISTRY)


def methods_reference() -> str:
    """Return a markdown reference of every registered method and its parameters."""
    from carbontwin.core.reference import model_table

    parts = []
    for name in method_names():
        m = get_method(name)
        parts += [
            f"### `{name}` — {m.title_en} ({m.title_zh})",
            "",
            f"{m.formula}. Reference: {m.reference}.",
            "",
        ]
        if m.Params.model_fields:
            parts += [model_table(m.Params), ""]
        else:
            parts += ["No parameters.", ""]
    return "\n".join(parts).rstrip()
