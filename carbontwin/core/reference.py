"""A reference of the park file, written from the models' own declarations.

Each field's type, default, unit and description come from the pydantic models, so the
reference in ``docs/park.md`` cannot drift from what the loader accepts.

Examples
--------
>>> print(model_table(Zone).splitlines()[2])
| `id` | str | required |  |  |
"""

from __future__ import annotations

import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from carbontwin.core import assets
from carbontwin.core.fields import field_unit
from carbontwin.core.operation import FaultRates, Schedule, Tariff, TouPeriod, TwinSettings
from carbontwin.core.park import AccountingSettings, Contact, Enterprise, Facility, Park, Zone
from carbontwin.core.points import MeteringPoint
from carbontwin.core.sources import CATEGORIES, EmissionSource, ParamEntry

__all__ = ["model_table", "park_reference"]


def _type_name(annotation: object) -> str:
    text = str(annotation).replace("typing.", "").replace("datetime.", "")
    if "Annotated[" in text and "discriminator='kind'" in text:
        return "list[asset] (by `kind`, below)"
    for prefix in ("carbontwin.core.", "<class '"):
        text = text.replace(prefix, "")
    text = text.replace("'>", "")
    return text.replace("NoneType", "None").replace("|", "\\|")


def model_table(model: type[BaseModel]) -> str:
    """Return a markdown table of a model's fields: name, type, default, unit, meaning."""
    lines = ["| field | type | default | unit | description |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        if info.default is PydanticUndefined and info.default_factory is None:
            default = "required"
        elif info.default_factory is not None:
            default = "empty"
        else:
            default = f"`{info.default!r}`" if info.default is not None else "none"
        unit = field_unit(model, name) or ""
        desc = (info.description or "").rsplit(" [", 1)[0] if unit else (info.description or "")
        lines.append(
            f"| `{name}` | {_type_name(info.annotation)} | {default} | {unit} | "
            f"{desc.replace('|', '/')} |"
        )
    return "\n".join(lines)


def park_reference(extra_sections: typing.Iterable[tuple[str, str]] = ()) -> str:
    """Return the markdown reference of the park file, with optional extra sections."""
    parts = [
        "# The park file",
        "",
        "A park is one YAML file with a top-level `park:` mapping. This reference is written",
        "from the models the loader validates with (`carbontwin park-reference` prints it);",
        "the demo park `carbontwin/data/parks/demo.yaml` uses every part of it.",
        "",
    ]
    sections = [
        ("park", Park),
        ("park.accounting", AccountingSettings),
        ("contacts[]", Contact),
        ("zones[]", Zone),
        ("enterprises[]", Enterprise),
        ("facilities[]", Facility),
        ("sources[]", EmissionSource),
        ("sources[].measured[]", ParamEntry),
        ("points[]", MeteringPoint),
        ("park.twin", TwinSettings),
        ("park.twin.schedules{}", Schedule),
        ("park.twin.tariff", Tariff),
        ("park.twin.tariff.periods[]", TouPeriod),
        ("park.twin.faults", FaultRates),
    ]
    for title, model in sections:
        parts += [
            f"## `{title}`",
            "",
            (model.__doc__ or "").strip().split("\n\n")[0],
            "",
            model_table(model),
            "",
        ]
    parts += ["### Source categories by scope", ""]
    for scope, cats in CATEGORIES.items():
        parts.append(f"- scope {scope}: " + ", ".join(f"`{c}`" for c in cats))
    parts += ["", "## `assets[]`", "", "Each asset has a `kind`; its parameters follow.", ""]
    for name in assets.__all__:
        model = getattr(assets, name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            kind = model.model_fields["kind"].default
            parts += [
                f"### kind `{kind}`",
                "",
                (model.__doc__ or "").strip(),
                "",
                model_table(model),
                "",
            ]
    for title, body in extra_sections:
        parts += [f"## {title}", "", body, ""]
    return "\n".join(parts).rstrip() + "\n"
