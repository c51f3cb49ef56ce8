"""The built-in factor library, with provenance, versions, factor sets and overrides.

Shipped data files ``accounting/data/factors_<source>_<date>.csv`` hold one factor per row:
``key, set, value, unit, source, clause, year, version, verified, ref, notes``. ``ref``
points to the row of the research table the value was taken from; ``verified=false``
marks values taken from secondary transcriptions that still need a check against the
primary document.

Where sources disagree the library ships both as named *sets*. Fuel parameters come in
``ndrc-2015`` (the NDRC 2013–2015 guideline appendix) and ``yearbook-ncv`` (the energy
statistical yearbook NCVs, falling back to ``ndrc-2015`` for everything else). GWP values
come in ``SAR``, ``AR4``, ``AR5`` and ``AR6``. The park's accounting settings choose.

Examples
--------
>>> lib = FactorLibrary.builtin()
>>> lib.get("ncv:natural_gas").value
389.31
>>> lib.get("ncv:diesel", factor_set="yearbook-ncv").value
42.652
>>> lib.get("gwp:N2O", gwp_set="AR5").value
265.0
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from carbontwin.core.errors import ValidationError
from carbontwin.core.units import conversion_factor

__all__ = ["FACTOR_SETS", "GWP_SETS", "Factor", "FactorLibrary", "factor_unit"]

#: Fuel-parameter sets and the set each falls back to.
FACTOR_SETS: dict[str, str | None] = {"ndrc-2015": None, "yearbook-ncv": "ndrc-2015"}
GWP_SETS: tuple[str, ...] = ("SAR", "AR4", "AR5", "AR6")
_FUEL_KINDS = {"ncv", "cc", "of", "product_cc", "heat", "const", "n2o_ef", "carbonate"}

# Mass of a named gas or of carbon is plain mass in the registry (tCO2/MWh → t/MWh);
# CO2-equivalent keeps its own dimension.
_MASS_WORDS = (
    ("tCO2e", "tCO2e"),
    ("kgCO2e", "kgCO2e"),
    ("tCO2", "t"),
    ("kgCO2", "kg"),
    ("tC", "t"),
    ("kgC", "kg"),
)


def factor_unit(unit: str) -> str:
    """Translate a factor unit as written in the data files into registry syntax.

    Examples
    --------
    >>> factor_unit("tCO2/MWh"), factor_unit("tC/GJ"), factor_unit("fraction")
    ('t/MWh', 't/GJ', '1')
    """
    u = unit.strip()
    if u in ("fraction", "frac", "1", ""):
        return "1"
    num, slash, den = u.partition("/")
    for word, repl in _MASS_WORDS:
        if num == word:
            num = repl
            break
    return f"{num}{slash}{den}"


@dataclass(frozen=True)
class Factor:
    """One factor value with where it comes from."""

    key: str
    set: str
    value: float
    unit: str
    source: str
    clause: str = ""
    year: str = ""
    version: str = ""
    verified: bool = False
    ref: str = ""
    notes: str = ""
    file: str = ""

    @property
    def kind(self) -> str:
        """The part of the key before the colon (``ncv``, ``grid``, ``gwp`` ...)."""
        return self.key.split(":", 1)[0]

    @property
    def label(self) -> str:
        """Compact provenance label ``key@set:version=value unit`` used in traces."""
        return f"{self.key}@{self.set}:{self.version}={self.value:g} {self.unit}"

    def to(self, unit: str) -> float:
        """Return the value converted to ``unit`` (registry syntax or data-file syntax)."""
        return self.value * conversion_factor(factor_unit(self.unit), factor_unit(unit))


class FactorLibrary:
    """A set of factors looked up by key and set.

    Parameters
    ----------
    factors : list of Factor
        The rows; ``(key, set)`` must be unique.
    """

    def __init__(self, factors: list[Factor]) -> None:
        self._rows: dict[tuple[str, str], Factor] = {}
        for f in factors:
            if (f.key, f.set) in self._rows:
                msg = f"factor {f.key!r} appears twice in set {f.set!r} ({f.file})"
                raise ValidationError(msg)
            self._rows[(f.key, f.set)] = f
        self._by_key: dict[str, list[Factor]] = {}
        for f in factors:
            self._by_key.setdefault(f.key, []).append(f)

    @classmethod
    @functools.cache
    def builtin(cls) -> FactorLibrary:
        """Return the library shipped with carbontwin (read once per process)."""
        rows: list[Factor] = []
        folder = resources.files("carbontwin.accounting").joinpath("data")
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if not (item.name.startswith("factors_") and item.name.endswith(".csv")):
                continue
            with item.open(encoding="utf-8", newline="") as fh:
                for r in csv.DictReader(fh):
                    rows.append(
                        Factor(
                            key=r["key"],
                            set=r["set"],
                            value=float(r["value"]),
                            unit=r["unit"],
                            source=r["source"],
                            clause=r["clause"],
                            year=r["year"],
                            version=r["version"],
                            verified=r["verified"] == "true",
                            ref=r["ref"],
                            notes=r["notes"],
                            file=item.name,
                        )
                    )
        return cls(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Factor]:
        return iter(self._rows.values())

    def sets(self) -> dict[str, list[str]]:
        """Return the set names present for each factor kind."""
        out: dict[str, set[str]] = {}
        for f in self._rows.values():
            out.setdefault(f.kind, set()).add(f.set)
        return {k: sorted(v) for k, v in sorted(out.items())}

    def find(self, key: str) -> list[Factor]:
        """Return every row for ``key`` (all sets)."""
        return list(self._by_key.get(key, []))

    def get(self, key: str, factor_set: str = "ndrc-2015", gwp_set: str = "SAR") -> Factor:
        """Return the factor for ``key`` in the chosen sets.

        GWP keys use ``gwp_set``; fuel and guideline keys use ``factor_set`` and its
        fallbacks; keys published in one set only (grid, tce …) return that row.

        Raises
        ------
        KeyError
            With a message naming the key, the sets searched and how to supply a value.
        """
        kind = key.split(":", 1)[0]
        rows = self._by_key.get(key)
        if not rows:
            msg = (
                f"no factor {key!r} in the library; give the value in the source's "
                "params or add an override (carbontwin factors set)"
            )
            raise KeyError(msg)
        if kind == "gwp":
            if gwp_set not in GWP_SETS:
                msg = f"GWP set {gwp_set!r} is not known; use one of {', '.join(GWP_SETS)}"
                raise ValidationError(msg)
            for f in rows:
                if f.set == gwp_set:
                    return f
            msg = f"no GWP for {key.split(':', 1)[1]} in set {gwp_set}; choose another GWP set"
            raise KeyError(msg)
        if kind in _FUEL_KINDS:
            if factor_set not in FACTOR_SETS:
                msg = f"factor set {factor_set!r} is not known; use one of {', '.join(FACTOR_SETS)}"
                raise ValidationError(msg)
            chain: list[str] = []
            s: str | None = factor_set
            while s:
                chain.append(s)
                s = FACTOR_SETS[s]
            for name in chain:
                if (key, name) in self._rows:
                    return self._rows[(key, name)]
            for f in rows:  # guideline constants published in one set only
                if f.set not in FACTOR_SETS:
                    return f
            msg = f"no factor {key!r} in set {factor_set!r} (searched {', '.join(chain)})"
            raise KeyError(msg)
        if len(rows) == 1:
            return rows[0]
        msg = f"factor {key!r} exists in several sets ({', '.join(r.set for r in rows)})"
        raise KeyError(msg)
