"""Problem data: broadcasting, derived quantities, windows, and clear errors on bad input."""

import numpy as np
import pytest

from carbontwin.core.errors import ValidationError
from carbontwin.optimizers import Batteries, DispatchProblem


def _problem(**changes):
    base = {
        "interval_h": 0.25,
        "load_kw": np.full((2, 4), 10.0),
        "pv_kw": np.zeros((2, 4)),
        "batteries": Batteries(energy_kwh=[20.0, 0.0], power_kw=[10.0, 0.0]),
        "import_price_cny_per_kwh": [0.3, 0.3, 1.2, 0.75],
    }
    return DispatchProblem(**(base | changes))


def test_scalars_broadcast_and_derived_quantities():
    p = _problem(
        export_price_cny_per_kwh=0.2, carbon_price_cny_per_tco2=100.0, grid_factor_tco2_per_mwh=0.5
    )
    assert p.n_b == 2 and p.steps == 4
    assert p.export_price_cny_per_kwh.shape == (4,)
    assert np.all(np.isinf(p.import_limit_kw)) and np.all(np.isinf(p.export_limit_kw))
    # 0.5 tCO2/MWh x 100 CNY/tCO2 = 0.05 CNY/kWh on top of the tariff (rounding: rtol)
    np.testing.assert_allclose(p.import_cost_cny_per_kwh, [0.35, 0.35, 1.25, 0.80], rtol=1e-12)
    np.testing.assert_array_equal(p.net_kw, [20.0] * 4)
    b = p.batteries
    np.testing.assert_array_equal(b.soc_end_frac, b.soc_start_frac)  # cyclic by default
    np.testing.assert_allclose(b.soc_min_kwh, [2.0, 0.0])
    assert not p.load_kw.flags.writeable  # validated data cannot drift


def test_window_cuts_every_series():
    p = _problem(import_limit_kw=[50.0, 40.0, 30.0, 20.0])
    w = p.window(1, 2)
    assert w.steps == 2
    np.testing.assert_array_equal(w.import_price_cny_per_kwh, [0.3, 1.2])
    np.testing.assert_array_equal(w.import_limit_kw, [40.0, 30.0])
    with pytest.raises(ValidationError, match="within the problem's 4 steps"):
        p.window(3, 2)


def test_with_soc_start_clips_to_the_band():
    b = Batteries(energy_kwh=[100.0, 0.0], power_kw=[50.0, 0.0])
    c = b.with_soc_start([95.0, 0.0])
    np.testing.assert_allclose(c.soc_start_kwh, [90.0, 0.0])
    with pytest.raises(ValidationError, match="soc_start_kwh"):
        b.with_soc_start([np.nan, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"energy_kwh": [-1.0, 5.0], "power_kw": [1.0, 1.0]}, r"energy_kwh\(=-1.0\) must be >= 0"),
        ({"energy_kwh": [1.0, 5.0], "power_kw": [1.0, -2.0]}, r"power_kw\(=-2.0\) must be >= 0"),
        ({"energy_kwh": [1.0], "power_kw": [1.0, 1.0]}, r"power_kw has shape \(2,\)"),
        ({"energy_kwh": [1.0], "power_kw": [1.0], "charge_efficiency_frac": 1.2}, r"\(0, 1\]"),
        (
            {"energy_kwh": [1.0], "power_kw": [1.0], "soc_min_frac": 0.8, "soc_max_frac": 0.2},
            "must be <= soc_max_frac",
        ),
        ({"energy_kwh": [1.0], "power_kw": [1.0], "soc_start_frac": 0.95}, "must lie in"),
        ({"energy_kwh": [[1.0]], "power_kw": [1.0]}, "one value per building"),
        ({"energy_kwh": [np.nan], "power_kw": [1.0]}, "must be finite"),
    ],
)
def test_bad_batteries(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        Batteries(**kwargs)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"pv_kw": np.zeros((2, 3))}, r"pv_kw has shape \(2, 3\) but must have shape \(2, 4\)"),
        (
            {"import_price_cny_per_kwh": [0.3, 0.3, 1.2]},
            r"import_price_cny_per_kwh has shape \(3,\)",
        ),
        ({"load_kw": np.full((3, 4), 1.0)}, "batteries has 2 entries but load_kw has 3 buildings"),
        (
            {"load_kw": np.array([[1.0, np.nan, 1.0, 1.0], [1.0] * 4])},
            r"load_kw\(=nan\) must be finite at index \(0, 1\); fill missing forecast",
        ),
        ({"pv_kw": np.full((2, 4), np.inf)}, r"pv_kw\(=inf\) must be finite"),
        ({"pv_kw": np.full((2, 4), -1.0)}, "PV output cannot be negative"),
        ({"grid_factor_tco2_per_mwh": [0.5, np.nan, 0.5, 0.5]}, "grid_factor_tco2_per_mwh"),
        ({"import_limit_kw": -5.0}, r"import_limit_kw\(=-5.0\) must be >= 0"),
        ({"import_limit_kw": [1.0, np.nan, 1.0, 1.0]}, "use inf .or None. for no limit"),
        ({"export_limit_kw": [1.0, 2.0]}, r"export_limit_kw has shape \(2,\)"),
        ({"interval_h": 0.0}, r"interval_h\(=0.0\) must be a positive number of hours"),
        ({"demand_charge_cny_per_kw": -1.0}, "demand_charge_cny_per_kw"),
        ({"emissions_cap_tco2": float("nan")}, "emissions_cap_tco2"),
        ({"batteries": None}, "must be a Batteries"),
        ({"load_kw": np.zeros(4)}, r"must be \(buildings, steps\)"),
    ],
)
def test_bad_problem(changes, match):
    with pytest.raises(ValidationError, match=match):
        _problem(**changes)


def test_zero_size_batteries_and_no_storage():
    p = _problem(batteries=Batteries.none(2))
    assert p.batteries.n_b == 2 and not p.batteries.energy_kwh.any()
