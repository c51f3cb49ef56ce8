"""Energy and GHG accounting: factor library, methodologies, inventory, indicators."""

from carbontwin.accounting.consistency import check_park
from carbontwin.accounting.factors import FACTOR_SETS, GWP_SETS, Factor, FactorLibrary
from carbontwin.accounting.indicators import evaluate_indicator, indicator_table, intensity
from carbontwin.accounting.inventory import SCHEMA, Inventory, compute_inventory
from carbontwin.accounting.methods import Method, get_method, method_names, register

__all__ = [
    "FACTOR_SETS",
    "GWP_SETS",
    "SCHEMA",
    "Factor",
    "FactorLibrary",
    "Inventory",
    "Method",
    "check_park",
    "compute_inventory",
    "evaluate_indicator",
    "get_method",
    "indicator_table",
    "intensity",
    "method_names",
    "register",
]
