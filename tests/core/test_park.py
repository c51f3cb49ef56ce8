"""The park definition: loading, validation messages, cross references, units declared."""

from __future__ import annotations

import typing

import pytest
import yaml
from pydantic import BaseModel

from carbontwin.core import ParkDefinitionError, demo_park_path, load_park
from carbontwin.core import assets as assets_mod
from carbontwin.core.fields import field_unit
from carbontwin.core.park import (
    AccountingSettings,
    Contact,
    Enterprise,
    Facility,
    Park,
    Zone,
    validate_industry_code,
    validate_uscc,
)
from carbontwin.core.points import MeteringPoint
from carbontwin.core.records import ActivityEntry, FactorOverride, Statistic
from carbontwin.core.sources import EmissionSource, ParamEntry


def write(tmp_path, doc):
    p = tmp_path / "park.yaml"
    p.write_text(yaml.safe_dump({"park": doc}, allow_unicode=True), encoding="utf-8")
    return p


def base_doc():
    return yaml.safe_load(demo_park_path().read_text(encoding="utf-8"))["park"]


def test_demo_park_loads(demo_park):
    assert demo_park.id == "binhai"
    assert len(demo_park.enterprises) == 10
    assert demo_park.enterprise("E09").exit_date.isoformat() == "2025-06-30"
    assert {s.scope for s in demo_park.sources if s.scope} == {1, 2, 3}
    assert demo_park.facility("F01-CHP").kind == "power_plant"


def test_bad_uscc_names_file_path_and_fix(tmp_path):
    doc = base_doc()
    doc["enterprises"][1]["uscc"] = "91320902MATH3BJ1X4"
    with pytest.raises(ParkDefinitionError) as exc:
        load_park(write(tmp_path, doc))
    msg = str(exc.value)
    assert msg.startswith("park.yaml: enterprises[1].uscc: ")
    assert "check character" in msg


def test_bad_industry_code_and_unknown_field(tmp_path):
    doc = base_doc()
    doc["enterprises"][0]["industry"] = "D2614"
    doc["zones"][0]["colour"] = "red"
    with pytest.raises(ParkDefinitionError) as exc:
        load_park(write(tmp_path, doc))
    lines = str(exc.value).splitlines()
    assert any(
        line.startswith("park.yaml: enterprises[0].industry: ") and "section D" in line
        for line in lines
    )
    assert any(line.startswith("park.yaml: zones[0].colour: unknown field") for line in lines)


def test_broken_references_are_listed(tmp_path):
    doc = base_doc()
    doc["enterprises"][0]["zone"] = "Z9"
    doc["sources"][0]["enterprise"] = "E99"
    doc["sources"][1]["id"] = doc["sources"][2]["id"]
    with pytest.raises(ParkDefinitionError) as exc:
        load_park(write(tmp_path, doc))
    msg = str(exc.value)
    assert "enterprises[0].zone: zone 'Z9' is not defined" in msg
    assert "sources[0].enterprise: enterprise 'E99' is not defined" in msg
    assert "is used more than once" in msg


def test_source_category_must_belong_to_scope(tmp_path):
    doc = base_doc()
    doc["sources"][0]["category"] = "purchased_electricity"
    with pytest.raises(ParkDefinitionError) as exc:
        load_park(write(tmp_path, doc))
    assert "sources[0]: category 'purchased_electricity' is not in scope 1" in str(exc.value)


def test_unknown_carrier_lists_known_ones(tmp_path):
    doc = base_doc()
    doc["sources"][0]["carrier"] = "unobtainium"
    with pytest.raises(ParkDefinitionError) as exc:
        load_park(write(tmp_path, doc))
    assert "carrier 'unobtainium' is not known" in str(exc.value)
    assert "natural_gas" in str(exc.value)


def test_not_yaml_and_missing_file(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("park: [unclosed", encoding="utf-8")
    with pytest.raises(ParkDefinitionError, match=r"broken.yaml: line \d+, column \d+: not valid"):
        load_park(p)
    with pytest.raises(ParkDefinitionError, match=r"nope\.yaml: cannot read the file"):
        load_park(tmp_path / "nope.yaml")


def test_exit_before_entry_and_bad_timezone(tmp_path):
    doc = base_doc()
    doc["enterprises"][0]["exit_date"] = "2000-01-01"
    doc["timezone"] = "Mars/Olympus"
    with pytest.raises(ParkDefinitionError) as exc:
        load_park(write(tmp_path, doc))
    assert "exit_date 2000-01-01 is before entry_date" in str(exc.value)
    assert "time zone 'Mars/Olympus' is not known" in str(exc.value)


def test_validators():
    assert validate_uscc("91320901MAAY4CL12R") == "91320901MAAY4CL12R"
    with pytest.raises(ValueError, match="18 characters"):
        validate_uscc("123")
    assert validate_industry_code("c26") == "C26"
    with pytest.raises(ValueError, match="not a GB/T 4754-2017 code"):
        validate_industry_code("Z12")


MODELS: list[type[BaseModel]] = [
    Park,
    Zone,
    Enterprise,
    Facility,
    Contact,
    AccountingSettings,
    EmissionSource,
    ParamEntry,
    MeteringPoint,
    ActivityEntry,
    FactorOverride,
    Statistic,
    *[getattr(assets_mod, n) for n in assets_mod.__all__ if n != "Asset"],
]


def _numeric(annotation) -> bool:
    args = typing.get_args(annotation)
    if args:
        return (
            any(_numeric(a) for a in args if a is not type(None))
            and all(a in (int, float, type(None)) or _numeric(a) for a in args)
            and not any(a is bool for a in args)
        )
    return annotation in (int, float) and annotation is not bool


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_numeric_field_declares_a_unit(model):
    missing = [
        name
        for name, info in model.model_fields.items()
        if _numeric(info.annotation)
        and not field_unit(model, name)
        and not (isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("unit"))
    ]
    assert not missing, f"{model.__name__}: numeric fields without a unit: {missing}"


def test_method_params_declare_units():
    from carbontwin.accounting.methods import get_method, method_names

    for name in method_names():
        params = get_method(name).Params
        for field, info in params.model_fields.items():
            if _numeric(info.annotation):
                assert field_unit(params, field), f"{name}.{field} declares no unit"
