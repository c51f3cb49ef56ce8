"""Run benchmarks: ``python -m benchmarks [--small] [name ...]`` (all when none is named).

Each benchmark prints its figures beside their references and targets and writes
``benchmarks/results/<name>.json``. A missed target is reported, never an error: the exit
status is 0 unless a name is unknown (2) or a benchmark crashed (1).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from types import ModuleType

import benchmarks
from benchmarks._common import RESULTS_DIR, show, small_requested


def discover() -> dict[str, ModuleType]:
    """Return the benchmark modules by name: the package's modules that define ``run``."""
    found = {}
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        if callable(getattr(module, "run", None)):
            found[getattr(module, "NAME", info.name)] = module
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument(
        "--small",
        action="store_true",
        help="a small instance that runs in seconds (also BENCH_SMALL=1)",
    )
    args = parser.parse_args(argv)
    known = discover()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    small = args.small or small_requested()
    status = 0
    for name in args.names or list(known):
        print(f"running {name}{' (small)' if small else ''} ...", flush=True)
        try:
            outcome = known[name].run(small=small)
        except Exception:  # report and go on with the others
            traceback.print_exc()
            status = 1
            continue
        show(outcome)
    print(f"results in {RESULTS_DIR.parent.name}/{RESULTS_DIR.name}/")
    return status


if __name__ == "__main__":
    sys.exit(main())
