"""EV charging: energy by departure at the cheapest hours, group limits, unmet energy."""

import numpy as np
import pytest

from carbontwin.core.errors import ValidationError
from carbontwin.optimizers import solve
from carbontwin.optimizers.assets import EvSessions

from .conftest import assert_fast_equals_reference, flat_problem, random_problem


def _ev(**changes):
    base = {
        "group": [0],
        "arrival_step": [1],
        "departure_step": [10],
        "energy_kwh": [20.0],
        "power_max_kw": [10.0],
        "group_power_max_kw": [50.0],
    }
    return EvSessions(**(base | changes))


def test_energy_by_departure_at_the_cheapest_hours():
    price = np.full(24, 1.0)
    price[[3, 4]] = 0.3  # the two cheapest plugged-in hours
    price[[0, 12]] = 0.1  # cheaper still, but the car is not plugged in
    r = solve(flat_problem(price=price, ev=_ev()))
    p = r.assets["ev"]["charge_kw"][0]
    # 20 kWh at 10 kW: exactly the two cheap hours, nothing outside the session
    np.testing.assert_allclose(p[[3, 4]], 10.0, atol=1e-6)
    assert np.abs(np.delete(p, [3, 4])).max() <= 1e-6
    assert r.assets["ev"]["delivered_kwh"][0] == pytest.approx(20.0, rel=1e-9)
    assert r.assets["ev"]["unmet_kwh"][0] == pytest.approx(0.0, abs=1e-9)
    # energy 20 kWh at 0.3 plus the base load 20 kW x 24 h at 1.0 (less the cheap hours)
    base = 20.0 * price.sum()
    assert r.objective_cny == pytest.approx(base + 20.0 * 0.3, rel=1e-9)


def test_group_limit_shares_power_and_unmet_energy_is_paid_for():
    ev = _ev(
        group=[0, 0],
        arrival_step=[0, 0],
        departure_step=[2, 2],
        energy_kwh=[15.0, 15.0],
        power_max_kw=[10.0, 10.0],
        group_power_max_kw=[12.0],
        efficiency_frac=[1.0, 0.5],
        unmet_penalty_cny_per_kwh=[10.0, 20.0],
    )
    r = solve(flat_problem(ev=ev))
    a = r.assets["ev"]
    assert (a["group_kw"][0] <= 12.0 + 1e-6).all()
    # 24 kWh of group energy in two hours for 30 kWh of needs: each grid kWh saves
    # 10 CNY of shortfall in either session (10 CNY/kWh at 100 %, 20 CNY/kWh at 50 %),
    # so any split is optimal; the shortfall is what each did not get
    delivered = a["delivered_kwh"]
    assert delivered[0] <= 15.0 + 1e-9 and delivered[1] <= 15.0 + 1e-9
    assert a["unmet_kwh"] == pytest.approx(15.0 - delivered, abs=1e-6)
    expected = 10.0 * a["unmet_kwh"][0] + 20.0 * a["unmet_kwh"][1]
    assert r.costs_cny["unmet_ev_cny"] == pytest.approx(expected, rel=1e-9)
    assert a["charge_kw"][:, 2:].max() <= 1e-9  # left after step 1


def test_a_session_leaving_after_the_horizon_gets_only_what_it_must():
    # plugged from step 20 to 30 of a 24-step day: 6 hours after the horizon at 5 kW = 30 kWh
    ev = _ev(arrival_step=[20], departure_step=[30], energy_kwh=[40.0], power_max_kw=[5.0])
    r = solve(flat_problem(ev=ev))
    assert r.assets["ev"]["delivered_kwh"][0] == pytest.approx(10.0, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_fast_equals_reference(seed):
    rng = np.random.default_rng(seed)
    arrival = rng.integers(-2, 20, 6)
    ev = EvSessions(
        group=rng.integers(0, 2, 6),
        arrival_step=arrival,
        departure_step=arrival + rng.integers(2, 12, 6),
        energy_kwh=rng.uniform(5.0, 50.0, 6),
        power_max_kw=rng.uniform(3.0, 22.0, 6),
        group_power_max_kw=[20.0, 30.0],
        efficiency_frac=rng.uniform(0.85, 1.0, 6),
    )
    assert_fast_equals_reference(random_problem(seed, n_b=2, steps=24).replace(ev=ev))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"arrival_step": [8], "departure_step": [5]},
            r"departure_step\(=5\) of session 0 must be after arrival_step\(=8\); the vehicle "
            "leaves before it arrives",
        ),
        ({"group": [1]}, r"group\(=1\) of session 0 must name one of the 1 charger groups"),
        ({"energy_kwh": [-1.0]}, "an energy need cannot be negative"),
        ({"arrival_step": [1.5]}, "must be a whole number of steps"),
        ({"efficiency_frac": 1.5}, r"efficiency_frac\(=1.5\) of session 0 must be in \(0, 1\]"),
        ({"power_max_kw": [1.0, 2.0]}, r"power_max_kw has shape \(2,\)"),
    ],
)
def test_bad_sessions(changes, match):
    with pytest.raises(ValidationError, match=match):
        flat_problem(ev=_ev(**changes))
