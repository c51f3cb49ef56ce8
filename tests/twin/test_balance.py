"""Energy balances close at every step: buses, storage, the CHP plant and boilers."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from carbontwin.twin import simulate
from carbontwin.twin.control import BaselineController
from tests.twin.conftest import small_park

CONSUMERS = {
    "hvac": "electricity",
    "load": "electricity",
    "pump": "electricity",
    "process": "electricity",
    "ev": "electricity",
}


def sig(trace, name):
    return trace.sel(signal=name).values


def bus_terms(res, ent):
    """Supply, loads, storage change and losses of an enterprise's bus, per step [kW]."""
    tr, park = res.trace, res.park
    dt_h = res.clock.step_s / 3600
    n = tr.sizes["step"]
    supply = np.zeros(n)
    loads = np.zeros(n)
    storage = np.zeros(n)
    losses = np.zeros(n)
    for a in park.assets:
        if a.enterprise != ent:
            continue
        if a.kind == "grid":
            supply += sig(tr, f"{a.id}.import") + sig(tr, f"{a.id}.supply")
            supply += sig(tr, f"{a.id}.unserved")
            supply -= sig(tr, f"{a.id}.export") + sig(tr, f"{a.id}.curtailed")
        elif a.kind == "pv":
            supply += sig(tr, f"{a.id}.ac")
        elif a.kind == "generator":
            supply += sig(tr, f"{a.id}.electricity")
        elif a.kind == "battery":
            e = sig(tr, f"{a.id}.energy_kwh")
            e0 = np.clip(a.initial_soc_frac, a.soc_min_frac, a.soc_max_frac) * a.energy_kwh
            storage += np.diff(np.concatenate(([e0], e))) / dt_h
            ch, dis = sig(tr, f"{a.id}.charge"), sig(tr, f"{a.id}.discharge")
            losses += ch * (1 - a.charge_efficiency_frac)
            losses += dis * (1 / a.discharge_efficiency_frac - 1)
        elif a.kind in CONSUMERS:
            loads += sig(tr, f"{a.id}.{CONSUMERS[a.kind]}")
    return supply, loads, storage, losses


def test_every_bus_balances_at_every_step(demo_run, demo):
    # supply = loads + storage change + losses, each step, to 1e-6 kW.
    for e in demo.enterprises:
        supply, loads, storage, losses = bus_terms(demo_run, e.id)
        assert np.abs(supply - (loads + storage + losses)).max() < 1e-6, e.id
    assert demo_run.kpis.balance_max_abs_kw < 1e-6
    assert demo_run.kpis.unserved_kwh == 0 and demo_run.kpis.unmet_heat_gj == 0


def test_battery_balances_and_soc_stays_in_bounds_under_any_setpoints():
    class Random:
        """Slams the battery between its limits and beyond (clipped by the twin)."""

        def __init__(self, park):
            self.base = BaselineController(park)
            self.rng = np.random.default_rng(5)

        def decide(self, state, t):
            out = self.base.decide(state, t)
            out["B.power_kw"] = float(self.rng.uniform(-400, 400))
            return out

    bat = {"id": "B", "kind": "battery", "enterprise": "E1", "energy_kwh": 200.0,
           "power_kw": 150.0, "soc_min_frac": 0.15, "soc_max_frac": 0.9}  # fmt: skip
    load = {"id": "L", "kind": "load", "enterprise": "E1", "power_kw": 300.0}
    park = small_park(assets=[bat, load], control_interval_s=300)
    res = simulate(park, "2025-03-01", 2, trace=True, controller=Random(park), seed=2)
    soc = sig(res.trace, "B.soc")
    assert soc.min() >= 0.15 - 1e-12 and soc.max() <= 0.9 + 1e-12
    assert soc.min() < 0.16 and soc.max() > 0.89  # both limits were reached
    assert max(sig(res.trace, "B.charge").max(), sig(res.trace, "B.discharge").max()) <= 150
    supply, loads, storage, losses = bus_terms(res, "E1")
    assert np.abs(supply - (loads + storage + losses)).max() < 1e-6


def test_chp_and_boilers_balance(demo_run, demo):
    tr = demo_run.trace
    chp = next(a for a in demo.assets if a.kind == "chp")
    supplied = [a for a in demo.assets if a.kind == "grid" and a.supplier == chp.id]
    p = sum(sig(tr, f"{g.id}.supply") for g in supplied)
    assert_allclose(sig(tr, f"{chp.id}.electricity"), p, rtol=1e-12)
    users = [a for a in demo.assets if a.kind == "process" and a.steam_supplier == chp.id]
    steam = sum(sig(tr, f"{u.id}.steam") for u in users)
    assert_allclose(sig(tr, f"{chp.id}.steam"), steam, rtol=1e-12)
    heat_gj = sig(tr, f"{chp.id}.heat")
    assert_allclose(heat_gj, steam * chp.steam_enthalpy_kj_per_kg / 1000, rtol=1e-12)
    fuel_kw = (p + chp.power_loss_ratio * heat_gj / 0.0036) / chp.electric_efficiency_frac
    assert_allclose(sig(tr, f"{chp.id}.fuel"), fuel_kw * 0.0036 / chp.fuel_ncv_gj_per_t, 1e-12)
    # What the plant exports is what its buyers receive.
    e02 = next(g for g in supplied if g.enterprise == "E02")
    assert_allclose(sig(tr, f"{chp.id}.export_electricity"), sig(tr, f"{e02.id}.supply"))
    for b in [a for a in demo.assets if a.kind == "boiler"]:
        fuel_gj = sig(tr, f"{b.id}.gas") * b.fuel_ncv_gj_per_1e4nm3
        assert_allclose(fuel_gj * b.efficiency_frac, sig(tr, f"{b.id}.heat"), rtol=1e-12)
