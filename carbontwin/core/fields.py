"""Declaring parameters once, as data: every numeric field carries its unit.

``quantity(unit, description, ...)`` is a pydantic ``Field`` whose JSON schema records the
unit. YAML validation, the docs and the optimisers read that one declaration; a test fails
if a numeric field of a park model declares no unit.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

__all__ = ["field_unit", "quantity"]


def quantity(unit: str, description: str, default: Any = ..., **kwargs: Any) -> Any:
    """Return a pydantic field for a number in ``unit``.

    Parameters
    ----------
    unit : str
        The canonical unit (``"kW"``, ``"kWh"``, ``"frac"`` for fractions, ``"1"`` for counts).
    description : str
        What the number is.
    default : object, optional
        The default; required when omitted.
    **kwargs
        Passed to :func:`pydantic.Field` (``ge``, ``le``, ``gt`` ...).
    """
    return Field(
        default, description=f"{description} [{unit}]", json_schema_extra={"unit": unit}, **kwargs
    )


def field_unit(model: type, name: str) -> str | None:
    """Return the unit declared for field ``name`` of a pydantic model class, if any."""
    info = model.model_fields[name]
    extra = info.json_schema_extra
    if isinstance(extra, dict):
        unit = extra.get("unit")
        return str(unit) if unit is not None else None
    return None
