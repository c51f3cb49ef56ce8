"""Shared helpers of the benchmarks: timing, peak memory, targets, results and printing."""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import operator
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Where ``python -m benchmarks`` writes ``<name>.json``.
RESULTS_DIR = Path(__file__).resolve().parent / "results"

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


def small_requested() -> bool:
    """Return whether the environment asks for small runs (``BENCH_SMALL=1``)."""
    return os.environ.get("BENCH_SMALL", "").strip().lower() in ("1", "true", "yes")


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Return the shortest wall time of ``repeat`` calls of ``fn`` [s] and the last result.

    Garbage is collected before each call and the collector is paused while it runs, so
    a collection triggered by an earlier run is not charged to this one.
    """
    best = math.inf
    result: Any = None
    for _ in range(max(1, repeat)):
        result = None
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - t0
        finally:
            gc.enable()
        best = min(best, elapsed)
    return best, result


def peak_traced(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Return the peak of memory traced while ``fn`` runs [bytes] and its result.

    ``tracemalloc`` sees Python objects and numpy's array buffers. Tracing starts here,
    so whatever exists before the call (the input data) is not counted.
    """
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return peak - base, result


def meets(value: float, target: str) -> bool:
    """Return whether ``value`` meets ``target``, written like ``"<= 3"`` or ``">= 1e4"``."""
    op, _, bound = target.strip().partition(" ")
    if op not in _OPS:
        msg = f"target {target!r} must start with one of {', '.join(_OPS)} and a space"
        raise ValueError(msg)
    if not math.isfinite(value):
        return False
    return _OPS[op](value, float(bound))


def machine() -> str:
    """Return the machine's architecture and CPU count, e.g. ``'x86_64, 2 CPUs'``."""
    return f"{platform.machine()}, {os.cpu_count()} CPUs"


@dataclass
class Outcome:
    """The figures of one benchmark run, with their targets and what they compare against.

    ``references`` and ``units`` are for printing only; :meth:`document` is the JSON.
    """

    name: str
    figures: dict[str, float]
    targets: dict[str, str]
    references: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    when: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def met(self) -> dict[str, bool]:
        """Whether each figure with a target meets it."""
        return {k: meets(self.figures[k], t) for k, t in self.targets.items()}

    def document(self) -> dict[str, Any]:
        """Return the result document written to ``results/<name>.json``."""
        return {
            "name": self.name,
            "figures": {k: float(v) for k, v in self.figures.items()},
            "targets": dict(self.targets),
            "met": self.met,
            "python": platform.python_version(),
            "machine": machine(),
            "when": self.when,
        }

    def write(self, out_dir: Path | str | None = None, stem: str | None = None) -> Path:
        """Write the document as ``<out_dir>/<stem or name>.json`` and return its path."""
        directory = Path(out_dir) if out_dir is not None else RESULTS_DIR
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{stem or self.name}.json"
        path.write_text(json.dumps(self.document(), indent=2) + "\n", encoding="utf-8")
        return path


def _fmt(value: float, unit: str = "") -> str:
    if not math.isfinite(value):
        text = str(value)
    elif value == 0 or 1e-3 <= abs(value) < 1e5:
        text = f"{value:.4g}"
    else:
        text = f"{value:.3e}"
    return f"{text} {unit}".rstrip()


def show(outcome: Outcome) -> None:
    """Print each figure beside its reference and target (a rich table when available)."""
    met = outcome.met
    rows = []
    for key, value in outcome.figures.items():
        verdict = "" if key not in met else ("met" if met[key] else "MISSED")
        rows.append(
            (
                key,
                _fmt(value, outcome.units.get(key, "")),
                outcome.references.get(key, ""),
                outcome.targets.get(key, ""),
                verdict,
            )
        )
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text
        print(f"\n{outcome.name}")
        widths = [
            max(len(r[i]) for r in [("figure", "value", "reference", "target", ""), *rows])
            for i in range(5)
        ]
        for r in [("figure", "value", "reference", "target", ""), *rows]:
            print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        for note in outcome.notes:
            print(f"  {note}")
        return
    table = Table(title=outcome.name, title_justify="left")
    for col, justify in (
        ("figure", "left"),
        ("value", "right"),
        ("reference", "left"),
        ("target", "left"),
        ("", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for key, value, ref, target, verdict in rows:
        style = {"met": "green", "MISSED": "bold red"}.get(verdict, "")
        table.add_row(key, value, ref, target, f"[{style}]{verdict}[/]" if style else verdict)
    console = Console()
    console.print(table)
    for note in outcome.notes:
        console.print(f"  {note}", highlight=False)
