"""Key indicators (A6): intensities and user-defined indicators.

Energy and CO2 per 10^4 CNY of value added, per unit of product, and user-defined
indicators written as safe expressions over named quantities.

Examples
--------
>>> intensity(5000.0, 2000.0)
2.5
>>> evaluate_indicator("(scope1_tco2e + scope2_tco2e) / value_added_wcny",
...                    {"scope1_tco2e": 300.0, "scope2_tco2e": 100.0, "value_added_wcny": 200.0})
2.0
>>> evaluate_indicator("__import__('os')", {})
Traceback (most recent call last):
...
carbontwin.core.errors.ValidationError: indicator expression: only min, max and abs may be called
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping

import pandas as pd
from simpleeval import SimpleEval

from carbontwin.core.errors import ValidationError
from carbontwin.core.records import Statistic
from carbontwin.core.time import Period
from carbontwin.core.units import conversion_factor

__all__ = ["evaluate_indicator", "indicator_table", "intensity", "statistics_for"]

_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Call,
    ast.Compare,
    ast.Gt,
    ast.Lt,
    ast.GtE,
    ast.LtE,
    ast.IfExp,
)
_FUNCTIONS = {"min": min, "max": max, "abs": abs}


def intensity(numerator: float, denominator: float) -> float:
    r"""Return an intensity: emissions or energy per unit of output or value.

    Parameters
    ----------
    numerator : float
        Emissions [tCO2e] or energy [tce].
    denominator : float
        Value added [10^4 CNY] or product output [t].

    Returns
    -------
    float
        The ratio; NaN when the denominator is zero.

    Notes
    -----
    .. math:: I = C / G

    References
    ----------
    CECS park smart carbon management specification, 5.3.1 and 5.4.2.
    """
    return numerator / denominator if denominator else math.nan


def evaluate_indicator(expression: str, names: Mapping[str, float]) -> float:
    """Evaluate a user-defined indicator over named quantities, without ``eval``.

    Only arithmetic, comparisons, conditional expressions and ``min``, ``max``, ``abs``
    are allowed; names must be among ``names``.

    Raises
    ------
    ValidationError
        If the expression is not valid or uses anything else.
    """
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        msg = f"indicator expression {expression!r} is not valid: {exc.msg}"
        raise ValidationError(msg) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            msg = "indicator expression: names starting with '_' are not allowed"
            raise ValidationError(msg)
        if not isinstance(node, _ALLOWED):
            msg = f"indicator expression: {type(node).__name__} is not allowed"
            raise ValidationError(msg)
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
        ):
            msg = "indicator expression: only min, max and abs may be called"
            raise ValidationError(msg)
        if isinstance(node, ast.Name) and node.id not in names and node.id not in _FUNCTIONS:
            known = ", ".join(sorted(names))
            msg = f"indicator expression: unknown name {node.id!r}; known: {known}"
            raise ValidationError(msg)
    evaluator = SimpleEval(names=dict(names), functions=_FUNCTIONS)
    try:
        value = evaluator.eval(expression)
    except ZeroDivisionError:
        return math.nan
    return float(value)


def statistics_for(
    stats: Iterable[Statistic], entity: str, name: str, period: Period, unit: str
) -> float:
    """Sum a statistic over ``period`` in ``unit``, apportioning by days of overlap."""
    total = 0.0
    for s in stats:
        if s.entity != entity or s.name != name:
            continue
        a, b = max(s.start, period.start), min(s.end, period.end)
        if b < a:
            continue
        share = ((b - a).days + 1) / ((s.end - s.start).days + 1)
        total += s.value * share * conversion_factor(s.unit, unit)
    return total


def indicator_table(
    totals: pd.DataFrame,
    periods: list[Period],
    stats: Iterable[Statistic],
    entity: str = "park",
    custom: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Return intensity indicators per period for ``entity`` (an enterprise id or 'park').

    Parameters
    ----------
    totals : pandas.DataFrame
        :meth:`Inventory.totals` of the entity, indexed by period label.
    periods : list of Period
        The periods of ``totals`` (same order).
    stats : iterable of Statistic
        Value added (name ``value_added``) and product outputs (``output:<product>``).
    entity : str
        Whose statistics to use.
    custom : mapping of str to str, optional
        User-defined indicators, name → expression over the columns of the result.

    Returns
    -------
    pandas.DataFrame
        ``co2_per_wcny`` [tCO2e/10^4 CNY], ``energy_tce_per_wcny`` [tce/10^4 CNY], and
        ``co2_per_t_<product>`` [tCO2e/t] for each product output, plus custom indicators.
    """
    stats = list(stats)
    products = sorted(
        {
            s.name.split(":", 1)[1]
            for s in stats
            if s.entity == entity and s.name.startswith("output:")
        }
    )
    rows = []
    for label, p in zip(totals.index, periods, strict=True):
        t = totals.loc[label]
        va = statistics_for(stats, entity, "value_added", p, "wCNY")
        row = {
            "period": label,
            "value_added_wcny": va,
            "co2_per_wcny": intensity(float(t.gross_tco2e), va),
            "energy_tce_per_wcny": intensity(float(t.energy_tce), va),
        }
        for prod in products:
            out = statistics_for(stats, entity, f"output:{prod}", p, "t")
            row[f"output_{prod}_t"] = out
            row[f"co2_per_t_{prod}"] = intensity(float(t.gross_tco2e), out)
        names = {
            **{k: float(v) for k, v in t.items()},
            **{k: v for k, v in row.items() if k != "period"},
        }
        for name, expr in (custom or {}).items():
            row[name] = evaluate_indicator(expr, names)
        rows.append(row)
    return pd.DataFrame(rows).set_index("period")
