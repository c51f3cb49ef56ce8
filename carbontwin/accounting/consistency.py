"""Consistency checks of a park definition against the methodologies (PyPSA style).

``check_park`` warns by default and raises with ``strict=True``; the runtime runs it
strict before every inventory.
"""

from __future__ import annotations

import warnings

from carbontwin.accounting.factors import FactorLibrary
from carbontwin.accounting.methods import get_method
from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.park import Park

__all__ = ["check_park"]


def check_park(
    park: Park, strict: bool = False, library: FactorLibrary | None = None
) -> list[tuple[str, str]]:
    """Check a park definition against the methodologies and the factor library.

    Every source must name a registered method with valid parameters, plants referenced
    by ``supplier`` must report their output, and the accounting settings must name
    factors that exist.

    Returns
    -------
    list of (str, str)
        ``(location, message)`` for each problem found.

    Raises
    ------
    ConsistencyError
        With every problem, when ``strict`` is true and there is any.
    """
    library = library or FactorLibrary.builtin()
    problems: list[tuple[str, str]] = []
    plants_reported = {s.facility for s in park.sources if s.method == "plant_generation"}
    for i, s in enumerate(park.sources):
        loc = f"sources[{i}]"
        try:
            method = get_method(s.method)
            params = method.params(s)
            method.streams(s, params)
        except ValidationError as exc:
            problems.append(
                (f"{loc}.params" if "params" in str(exc) else f"{loc}.method", str(exc))
            )
            continue
        supplier = s.params.get("supplier")
        if (
            isinstance(supplier, str)
            and supplier.startswith("plant:")
            and (supplier.split(":", 1)[1] not in plants_reported)
        ):
            problems.append(
                (
                    f"{loc}.params.supplier",
                    f"{supplier!r} has no source with method plant_generation, so "
                    "its own supply factor cannot be found",
                )
            )
        if s.kind == "emission" and s.method in ("green_electricity", "ccer"):
            problems.append(
                (
                    f"{loc}.kind",
                    f"method {s.method} is an offset or memo, not "
                    "an emission; set kind: offset (or memo for self_generated)",
                )
            )
    st = park.accounting
    for field in ("grid_factor", "residual_factor", "heat_factor"):
        key = getattr(st, field)
        try:
            library.get(key, st.factor_set, st.gwp_set)
        except KeyError as exc:
            problems.append((f"accounting.{field}", str(exc.args[0])))
    if problems:
        text = "\n".join(f"{park.id}: {loc}: {msg}" for loc, msg in problems)
        if strict:
            raise ConsistencyError(text)
        warnings.warn(text, stacklevel=2)
    return problems
