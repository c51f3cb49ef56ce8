"""Time-of-use electricity prices and the cost of energy.

Examples
--------
>>> from carbontwin.core.operation import Tariff
>>> t = Tariff()
>>> tou_price_cny_per_kwh(t, np.array([3.0, 9.0, 12.0, 23.5]), np.ones(4, int)).tolist()
[0.3, 1.05, 0.65, 0.65]
"""

from __future__ import annotations

import numpy as np

from carbontwin.core.operation import Tariff, parse_hours

__all__ = ["fuel_prices", "tou_periods", "tou_price_cny_per_kwh"]


def tou_periods(tariff: Tariff, hour: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Index into ``tariff.periods`` of the period in force at local hours and months.

    Later periods override earlier ones where they overlap; hours no period covers take
    the first period.
    """
    code = np.zeros(len(hour), dtype=np.intp)
    for i, p in enumerate(tariff.periods):
        months = np.zeros(13, dtype=bool)
        months[list(p.month_list())] = True
        on = np.zeros(len(hour), dtype=bool)
        for lo, hi in parse_hours(p.hours):
            on |= (hour >= lo) & (hour < hi) if hi > lo else (hour >= lo) | (hour < hi)
        code[on & months[month]] = i
    return code


def tou_price_cny_per_kwh(tariff: Tariff, hour: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Energy price at local hours [h] in months (1–12) [CNY/kWh]."""
    prices = np.array([p.price_cny_per_kwh for p in tariff.periods], dtype=float)
    return prices[tou_periods(tariff, hour, month)]


def fuel_prices(tariff: Tariff) -> dict[str, float]:
    """Price per canonical unit of each priced carrier [CNY/t, CNY/10^4 Nm3].

    Examples
    --------
    >>> from carbontwin.core.operation import Tariff
    >>> fuel_prices(Tariff(coal_price_cny_per_t=900.0))["bituminous_coal"]
    900.0
    """
    return {
        "bituminous_coal": tariff.coal_price_cny_per_t,
        "anthracite": tariff.coal_price_cny_per_t,
        "coke": tariff.coke_price_cny_per_t,
        "natural_gas": tariff.gas_price_cny_per_1e4nm3,
        "diesel": tariff.diesel_price_cny_per_t,
    }
