"""Monte Carlo carbon-peak studies: vectorised draws, peak year and value, Dask.

Each uncertain driver of a scenario is drawn once per sample (its whole trajectory moves
with that draw, see :class:`~carbontwin.scenarios.definition.Uncertainty`). Draws are made
in blocks of ``block_draws`` samples; block ``b`` of scenario ``s`` draws from
``numpy.random.default_rng(SeedSequence(seed, spawn_key=(crc32(s), b)))`` — the same stream
``SeedSequence(seed).spawn`` would hand out, keyed by the scenario's name so that it does
not depend on which other scenarios run. The kernel runs block by block in process and on
Dask alike, so a seed gives identical results whichever path runs it and however the
blocks are grouped into tasks (``chunk_blocks``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import xarray as xr

from carbontwin.core.errors import ValidationError
from carbontwin.scenarios.definition import Study
from carbontwin.scenarios.projection import CompiledScenario, compile_scenario, evaluate

__all__ = [
    "WORKER_MALLOC",
    "emission_bands",
    "local_cluster",
    "monte_carlo",
    "peak_summary",
    "peak_year_pmf",
    "prob_peak_by",
    "run_blocks",
]


def _rng(seed: int, stream: int, block: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, block)))


def run_blocks(
    comp: CompiledScenario,
    seed: int,
    first_block: int,
    stop_block: int,
    block_draws: int,
    n_draws: int,
    keep_paths: bool,
    out: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Draw and project blocks ``first_block`` … ``stop_block - 1`` of one scenario.

    Parameters
    ----------
    comp : CompiledScenario
        The compiled scenario.
    seed : int
        The study's seed.
    first_block, stop_block : int
        The blocks to run.
    block_draws : int
        Draws per block (the last block of the study may be shorter).
    n_draws : int
        Draws of the whole study.
    keep_paths : bool
        Return the yearly paths as well as the peaks.
    out : dict of str to numpy.ndarray, optional
        Arrays over the study's draws (draw first) to write the blocks into; new arrays
        over these blocks' draws by default.

    Returns
    -------
    dict of str to numpy.ndarray
        ``peak_year`` [yr], ``peak_tco2e`` [tCO2e], ``peaked`` per draw; with
        ``keep_paths`` also ``net_emissions_tco2e`` [tCO2e] and ``energy_tce`` [tce] (draw,
        year). When ``out`` is given, ``out`` itself.
    """
    t = len(comp.years)
    lo_draw = first_block * block_draws
    hi_draw = min(stop_block * block_draws, n_draws)
    offset = 0 if out is not None else lo_draw
    if out is None:
        m = hi_draw - lo_draw
        out = {
            "peak_year": np.empty(m, dtype=comp.years.dtype),
            "peak_tco2e": np.empty(m),
            "peaked": np.empty(m, dtype=bool),
        }
        if keep_paths:
            out["net_emissions_tco2e"] = np.empty((m, t))
            out["energy_tce"] = np.empty((m, t))
    for b in range(first_block, stop_block):
        start = b * block_draws
        n = min(block_draws, n_draws - start)
        sl = slice(start - offset, start - offset + n)
        u = _rng(seed, comp.stream, b).random((n, comp.n_uncertain))
        r = evaluate(comp, u)
        net = np.broadcast_to(r["net_emissions_tco2e"], (t, n))
        idx = np.argmax(net, axis=0)
        out["peak_tco2e"][sl] = net[idx, np.arange(n)]
        out["peak_year"][sl] = comp.years[idx]
        out["peaked"][sl] = idx < t - 1
        if keep_paths:
            out["net_emissions_tco2e"][sl] = net.T
            out["energy_tce"][sl] = np.broadcast_to(r["energy_tce"], (t, n)).T
    return out


#: Allocator settings for worker processes. Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_``
#: to 64 KiB, which turns off glibc's dynamic mmap threshold: every temporary array of the
#: kernel (~320 kB) is then mapped and unmapped, and a worker runs 2-3 times slower than
#: the same code in process. Raising both thresholds restores the speed.
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": 64 * 2**20, "MALLOC_MMAP_THRESHOLD_": 16 * 2**20}


def local_cluster(**kwargs: Any) -> Any:
    """Return a ``dask.distributed.LocalCluster`` tuned for the Monte Carlo kernel.

    Worker processes get :data:`WORKER_MALLOC` in their environment (a cluster of your
    own can set ``distributed.nanny.pre-spawn-environ`` likewise). ``kwargs`` go to
    ``LocalCluster`` (default: one thread per worker, no dashboard).

    Examples
    --------
    >>> cluster = local_cluster(n_workers=2)          # doctest: +SKIP
    >>> monte_carlo(study, 100_000, dask=Client(cluster))  # doctest: +SKIP
    """
    import dask
    from dask.distributed import LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.update({k: str(v) for k, v in WORKER_MALLOC.items()})
    kwargs = {"threads_per_worker": 1, "dashboard_address": None, **kwargs}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(**kwargs)


def _client(dask: Any) -> tuple[Any, list[Any]]:
    from dask.distributed import Client

    if dask is True:
        cluster = local_cluster()
        client = Client(cluster)
        return client, [client, cluster]
    if isinstance(dask, str):
        client = Client(dask)
        return client, [client]
    if isinstance(dask, Client):
        return dask, []
    msg = (
        f"dask(={dask!r}) must be None/False (in process), True (a LocalCluster), "
        "a dask.distributed Client or a scheduler address"
    )
    raise ValidationError(msg)


def monte_carlo(
    study: Study,
    n_draws: int = 10_000,
    *,
    seed: int = 0,
    scenarios: Sequence[str] | None = None,
    block_draws: int = 1000,
    chunk_blocks: int | None = None,
    keep_paths: bool = True,
    threads: int | None = None,
    dask: Any = None,
) -> xr.Dataset:
    """Draw every uncertain driver ``n_draws`` times and project each scenario.

    Parameters
    ----------
    study : Study
        The study.
    n_draws : int
        Samples per scenario.
    seed : int
        Seed of the study's ``SeedSequence``.
    scenarios : sequence of str, optional
        The scenarios to run; all by default.
    block_draws : int
        Draws per random block (changing it changes the streams; ~1,000 keeps the
        kernel's arrays in cache).
    chunk_blocks : int, optional
        Blocks per task: 10 in process, 25 on Dask by default; results do not depend on
        it.
    threads : int, optional
        Threads running the tasks in process (numpy releases the GIL); the machine's CPU
        count by default, 1 to stay on the calling thread. Results do not depend on it.
    keep_paths : bool
        Keep the yearly paths (``scenario × draw × year``), 16 bytes a draw-year.
    dask : None, bool, dask.distributed.Client or str
        ``None``/``False`` runs in process; ``True`` starts a :func:`local_cluster`; a
        client or a scheduler address runs on that cluster. The results are identical.

    Returns
    -------
    xarray.Dataset
        ``peak_year`` [yr], ``peak_tco2e`` [tCO2e] (of the net emissions) and ``peaked``
        (False when the maximum falls in the last year) over ``scenario × draw``; with
        ``keep_paths``, ``net_emissions_tco2e`` [tCO2e] and ``energy_tce`` [tce] over
        ``scenario × draw × year``. Attributes: ``seed``, ``block_draws``, ``n_draws``.

    Raises
    ------
    ValidationError
        For a non-positive ``n_draws``, ``block_draws`` or ``chunk_blocks``, an unknown
        scenario or a bad ``dask``.

    Examples
    --------
    >>> import yaml
    >>> from carbontwin.scenarios import demo_study_path, load_study
    >>> study = load_study(yaml.safe_load(demo_study_path().read_text(encoding="utf-8")))
    >>> mc = monte_carlo(study, 1000, seed=7)
    >>> mc.peak_year.dims
    ('scenario', 'draw')
    """
    if chunk_blocks is None:
        chunk_blocks = 10 if dask is None or dask is False else 25
    for name, value in (
        ("n_draws", n_draws),
        ("block_draws", block_draws),
        ("chunk_blocks", chunk_blocks),
    ):
        if int(value) != value or value < 1:
            msg = f"{name}(={value!r}) must be a positive whole number"
            raise ValidationError(msg)
    names = list(study.scenarios) if scenarios is None else list(scenarios)
    comps = [compile_scenario(study, name) for name in names]
    n_blocks = -(-n_draws // block_draws)
    ranges = [(b, min(b + chunk_blocks, n_blocks)) for b in range(0, n_blocks, chunk_blocks)]
    years = comps[0].years
    t = len(years)
    keys = ["peak_year", "peak_tco2e", "peaked"]
    arrays: dict[str, np.ndarray] = {
        "peak_year": np.empty((len(comps), n_draws), dtype=years.dtype),
        "peak_tco2e": np.empty((len(comps), n_draws)),
        "peaked": np.empty((len(comps), n_draws), dtype=bool),
    }
    if keep_paths:
        keys += ["net_emissions_tco2e", "energy_tce"]
        arrays["net_emissions_tco2e"] = np.empty((len(comps), n_draws, t))
        arrays["energy_tce"] = np.empty((len(comps), n_draws, t))
    views = [{k: v[i] for k, v in arrays.items()} for i in range(len(comps))]
    if dask is None or dask is False:
        tasks = [(i, lo, hi) for i in range(len(comps)) for lo, hi in ranges]
        n_threads = (os.cpu_count() or 1) if threads is None else int(threads)

        def one(task: tuple[int, int, int]) -> None:
            i, lo, hi = task
            run_blocks(comps[i], seed, lo, hi, block_draws, n_draws, keep_paths, views[i])

        if n_threads > 1 and len(tasks) > 1:
            with ThreadPoolExecutor(max_workers=n_threads) as pool:
                list(pool.map(one, tasks))
        else:
            for task in tasks:
                one(task)
    else:
        client, own = _client(dask)
        try:
            futures = []
            for i, c in enumerate(comps):
                c_f = client.scatter(c, broadcast=True)
                futures += [
                    (
                        i,
                        lo,
                        client.submit(
                            run_blocks,
                            c_f,
                            seed,
                            lo,
                            hi,
                            block_draws,
                            n_draws,
                            keep_paths,
                            pure=False,
                        ),
                    )
                    for lo, hi in ranges
                ]
            for i, lo, fut in futures:
                part = fut.result()
                start = lo * block_draws
                for key in keys:
                    arrays[key][i, start : start + len(part[key])] = part[key]
                del part
        finally:
            for thing in own:
                thing.close()
    data: dict[str, Any] = {}
    for key in keys:
        dims = ("scenario", "draw", "year") if arrays[key].ndim == 3 else ("scenario", "draw")
        data[key] = (dims, arrays[key])
    ds = xr.Dataset(
        data,
        coords={"scenario": names, "draw": np.arange(n_draws), "year": years},
        attrs={"seed": seed, "block_draws": block_draws, "n_draws": n_draws},
    )
    for key, unit in (
        ("peak_year", "yr"),
        ("peak_tco2e", "tCO2e"),
        ("net_emissions_tco2e", "tCO2e"),
        ("energy_tce", "tce"),
    ):
        if key in ds:
            ds[key].attrs["units"] = unit
    return ds


def peak_year_pmf(result: xr.Dataset) -> xr.DataArray:
    """Return the share of draws peaking in each year, per scenario [frac].

    Draws that do not peak within the horizon are counted under the last year; subtract
    ``1 - peaked.mean("draw")`` from it to drop them.

    Returns
    -------
    xarray.DataArray
        Over ``scenario × peak_year`` (every year of the horizon), summing to 1.
    """
    years = result.year.values
    idx = result.peak_year.values - years[0]
    counts = np.zeros((result.sizes["scenario"], len(years)))
    for s in range(result.sizes["scenario"]):
        counts[s] = np.bincount(idx[s], minlength=len(years))
    return xr.DataArray(
        counts / result.sizes["draw"],
        dims=("scenario", "peak_year"),
        coords={"scenario": result.scenario.values, "peak_year": years},
        name="peak_year_frac",
        attrs={"units": "frac"},
    )


def prob_peak_by(result: xr.Dataset, year: int) -> xr.DataArray:
    """Return the probability that emissions peak in ``year`` or earlier, per scenario.

    A draw whose maximum is in the last year of the horizon has not peaked.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`monte_carlo` result.
    year : int
        The year [yr] (e.g. 2030 for "peak before 2030", which Chinese plans read as
        "by 2030 at the latest").

    Returns
    -------
    xarray.DataArray
        Over ``scenario`` [frac].
    """
    hit = (result.peak_year <= year) & result.peaked
    out = hit.mean("draw")
    out.name = "prob_peak_by"
    out.attrs.update({"units": "frac", "year": int(year)})
    return out


def peak_summary(
    result: xr.Dataset, quantiles: Sequence[float] = (0.05, 0.5, 0.95), by_year: int = 2030
) -> xr.Dataset:
    """Summarise a Monte Carlo result: peak-year and peak-value statistics per scenario.

    Returns
    -------
    xarray.Dataset
        ``peak_year_quantile`` [yr] and ``peak_tco2e_quantile`` [tCO2e] over
        ``scenario × quantile``; ``peak_tco2e_mean`` [tCO2e], ``peaked_frac`` [frac] and
        ``prob_peak_by`` [frac] (in ``by_year`` or earlier) over ``scenario``.
    """
    q = list(quantiles)
    ds = xr.Dataset(
        {
            "peak_year_quantile": result.peak_year.quantile(q, dim="draw", method="lower"),
            "peak_tco2e_quantile": result.peak_tco2e.quantile(q, dim="draw"),
            "peak_tco2e_mean": result.peak_tco2e.mean("draw"),
            "peaked_frac": result.peaked.mean("draw"),
            "prob_peak_by": prob_peak_by(result, by_year),
        }
    )
    ds.attrs["by_year"] = int(by_year)
    return ds


def emission_bands(
    result: xr.Dataset, quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)
) -> xr.DataArray:
    """Return quantiles of the net emissions per year (the fan chart) [tCO2e].

    Raises
    ------
    ValidationError
        If the result was made with ``keep_paths=False``.
    """
    if "net_emissions_tco2e" not in result:
        msg = "the result has no paths; run monte_carlo(..., keep_paths=True)"
        raise ValidationError(msg)
    out = result.net_emissions_tco2e.quantile(list(quantiles), dim="draw")
    out.attrs["units"] = "tCO2e"
    return out
