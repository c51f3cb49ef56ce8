"""Methodologies are registered by name; third parties add theirs through an entry point."""

from __future__ import annotations

import sys
import textwrap

import pytest
from numpy.testing import assert_allclose

from carbontwin.accounting import compute_inventory, get_method, method_names
from carbontwin.accounting.methods import _REGISTRY, _load_entry_points
from carbontwin.core.errors import ValidationError
from tests.conftest import entry, make_park

PLUGIN = '''
from carbontwin.accounting.methods import Method, Params, Term
from carbontwin.core.fields import quantity


class LimeParams(Params):
    factor_tco2_per_t: float = quantity("tCO2/t", "emission factor of quicklime", 0.785)


class Quicklime(Method):
    """CO2 per tonne of quicklime produced (a third-party methodology)."""

    name = "quicklime_output"
    title_en = "quicklime output"
    title_zh = "生石灰产量法"
    formula = "E = AD x EF"
    Params = LimeParams

    def terms(self, source, params, ctx):
        return [Term("", "CO2", params.factor_tco2_per_t, source.scope, source.category,
                     factors=(f"param:factor={params.factor_tco2_per_t:g}",),
                     formula=self.formula)], []
'''


@pytest.fixture
def plugin_on_path(tmp_path, monkeypatch):
    pkg = tmp_path / "lime_methods"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    dist = tmp_path / "lime_methods-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: lime-methods\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[carbontwin.methods]\nquicklime_output = lime_methods:Quicklime\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    _load_entry_points.cache_clear()
    yield
    _load_entry_points.cache_clear()
    _REGISTRY.pop("quicklime_output", None)
    sys.modules.pop("lime_methods", None)


def test_builtin_methods_are_registered():
    names = method_names()
    for name in (
        "fuel_combustion",
        "carbon_mass_balance",
        "carbonates",
        "nitrous_oxide",
        "purchased_electricity",
        "exported_electricity",
        "purchased_heat",
        "exported_heat",
        "co2_recovery",
        "cems",
        "fugitive",
        "waste_incineration",
        "wastewater_ch4",
        "scope3",
        "plant_generation",
        "green_electricity",
        "ccer",
    ):
        assert name in names
    with pytest.raises(ValidationError, match="method 'magic' is not registered"):
        get_method("magic")


def test_third_party_method_through_entry_point(plugin_on_path):
    method = get_method("quicklime_output")
    assert method.title_zh == "生石灰产量法"
    park = make_park(
        [
            {
                "id": "kiln",
                "enterprise": "E1",
                "scope": 1,
                "category": "process",
                "method": "quicklime_output",
                "carrier": "material:quicklime",
            }
        ]
    )
    inv = compute_inventory(park, "2025", entries=[entry("kiln", 1000.0, "t")])
    assert_allclose(float(inv.totals("year").gross_tco2e.iloc[0]), 785.0, rtol=1e-12)
    assert "param:factor=0.785" in inv.trace().factors.iloc[0]
