"""Overview and inventory queries over HTTP at 50 concurrent clients, against trivial endpoints.

A real server — ``uvicorn`` serving ``carbontwin.api.main:app_from_env``, one worker, on a
free loopback port — answers the demo park with a year (2025) of simulated history at
1-min steps, the demo ledgers and statistics imported and the monthly inventories of 2025
stored. Accounts use the default Argon2 hasher: 4 park managers and one emission unit per
enterprise. Sessions are opened before the load starts: ``sign_ins`` of them by signing in
over HTTP (``sign_in_p50_s``), the rest the way a sign-in opens one after its password
check (a refresh token kept in the store and a signed access token), so 1,000 sessions
exist, four in five of park managers. The store is built once and cached under the
system's temporary directory, keyed by :data:`VERSION`, the store's migrations and whether
monthly inventories can be stored; each run serves a fresh copy of it, so the access log a
run writes never reaches the next one.

The load generator is one separate process (asyncio streams, HTTP/1.1 keep-alive). It first
opens 1,000 idle keep-alive connections (each answers one health check, then holds still
for the whole run; the server's keep-alive timeout is raised to keep them), then runs 50
closed-loop clients on their own keep-alive connections, every request with the bearer
token of the next of the 1,000 sessions in turn, in four phases of a fixed duration, each
after a warm-up that is not measured:

(a) ``trivial``: ``GET /api/v1/health``; ``trivial_auth``: ``GET /api/v1/auth/me``, which
    checks the token and the user like every data route;
(b) ``overview``: ``GET /api/v1/overview?year=2025``;
(c) ``inventory``: ``GET /api/v1/inventory?start=2025-MM-01&end=2025-MM-<last>&by=enterprise``,
    the 12 months in turn.

Latency is measured per request in the client (``time.perf_counter``, request written to
response read); ``<phase>_p50_s``, ``<phase>_p95_s`` and ``<phase>_req_per_s`` (requests
started in the measured window ÷ its length) are reported for each phase, with the
server's CPU time per request (``<phase>_server_cpu_s``, from ``/proc``).
``overview_vs_trivial_p95`` is the ratio of the overview's p95 to the health check's, both
measured on the same server in the same run. An error is any answer other than 200 or a
connection error; ``error_rate`` is errors ÷ requests over all measured phases. At the end
every idle connection is asked once more (``idle_connections_open``). The server keeps
answers until the stored inventories change, so the phases mostly measure the path of a
kept answer; before the load, one overview and one month's inventory are asked for once
on a fresh server (``overview_cold_s``, ``inventory_cold_s``: the first, computed answers).

uvicorn runs with ``--loop auto --http auto``: uvloop and httptools when they are installed,
else asyncio and h11; the notes say which. The machine's cores are shared: the server (one
process) and the load generator (one process) run side by side, so a figure here is "this
machine, co-located", as the anchors in the design notes are. With 50 closed-loop clients
latency ≈ 50 ÷ throughput, so a p95 below 100 ms needs about 600 answers a second.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import hashlib
import http.client
import importlib.util
import itertools
import json
import multiprocessing as mp
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import Outcome, small_requested

NAME = "api"
TARGETS = {"overview_p95_s": "< 0.1", "inventory_p95_s": "< 0.3", "error_rate": "<= 0"}
PHASES = ("trivial", "trivial_auth", "overview", "inventory")
UNITS = {
    **{f"{p}_{q}_s": "s" for p in PHASES for q in ("p50", "p95")},
    **{f"{p}_req_per_s": "/s" for p in PHASES},
    **{f"{p}_server_cpu_s": "s" for p in PHASES},
    "overview_cold_s": "s",
    "inventory_cold_s": "s",
    "sign_in_p50_s": "s",
}
#: Bump when the cached store must be rebuilt (what setup writes changed).
VERSION = "1"
YEAR = 2025
HOST = "127.0.0.1"
ACTOR = "benchmark"
PASSWORD = "Bench-Carbon-2025!"
MANAGERS = 4
KEEP_ALIVE_S = 600
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Size:
    """How big one run is."""

    days: int  # of simulated history from 2025-01-01
    months: int  # months the inventory phase cycles over
    sessions: int
    sign_ins: int  # of the sessions, opened by signing in over HTTP
    idle: int  # idle keep-alive connections held open
    clients: int  # closed-loop clients
    warmup_s: float
    phase_s: float


FULL = Size(
    days=365, months=12, sessions=1000, sign_ins=20, idle=1000, clients=50, warmup_s=2, phase_s=10
)
SMALL = Size(
    days=31, months=1, sessions=200, sign_ins=5, idle=200, clients=50, warmup_s=0.5, phase_s=2
)


# Setup: the cached store ------------------------------------------------------------------
def _saver() -> Any:
    """``save_monthly_inventories`` where the runtime has it, else ``None``."""
    if importlib.util.find_spec("carbontwin.runtime.integrity") is None:
        return None
    from carbontwin.runtime import integrity

    return getattr(integrity, "save_monthly_inventories", None)


def _users() -> list[tuple[str, str, str | None]]:
    """The benchmark's accounts: (user name, role, enterprise)."""
    from carbontwin.runtime.accounting import resolve_park

    park = resolve_park("demo")
    managers = [(f"bench.manager{i + 1:02d}", "park_manager", None) for i in range(MANAGERS)]
    units = [(f"bench.{e.id.lower()}", "emission_unit", e.id) for e in park.enterprises]
    return managers + units


def _cache_dir(size: Size) -> Path:
    versions = resources.files("carbontwin.store").joinpath("migrations", "versions")
    migrations = sorted(p.name for p in versions.iterdir() if p.name.endswith(".py"))
    raw = json.dumps([VERSION, size.days, migrations, _saver() is not None, _users()])
    key = hashlib.sha256(raw.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "carbontwin-bench-api" / f"{size.days}d-{key}"


def _build(directory: Path, size: Size) -> dict[str, Any]:
    """Write the store of the benchmark into ``directory``; return what was done."""
    from carbontwin.runtime.accounting import (
        demo_activity_paths,
        demo_statistics_path,
        read_statistics,
        resolve_park,
    )
    from carbontwin.runtime.auth import Authenticator, AuthSettings
    from carbontwin.runtime.registry import import_files, register_park
    from carbontwin.runtime.simulate import run_period, simulate_to_store
    from carbontwin.store import Store

    db = directory / "store.db"
    done: dict[str, Any] = {}
    t0 = time.perf_counter()
    store = Store.open(f"sqlite:///{db}")
    try:
        park = resolve_park("demo")
        register_park(store, park, ACTOR)
        period = run_period(park, f"{YEAR}-01-01", size.days)
        summary = simulate_to_store(store, park, period.start, size.days, 60, YEAR, 7, user=ACTOR)
        done["history_rows"] = summary.history_rows
        done["raw_rows"] = summary.raw_rows
        done["simulate_s"] = round(time.perf_counter() - t0, 1)
        done["import"] = import_files(store, park, demo_activity_paths(), ACTOR)
        stats, _ = read_statistics([demo_statistics_path()])
        done["statistics"] = store.add_statistics(park.id, stats, actor=ACTOR)
        save = _saver()
        t1 = time.perf_counter()
        if save is not None:
            save(store, park, YEAR, ACTOR)
        done["inventories"] = save is not None
        done["inventories_s"] = round(time.perf_counter() - t1, 1)
        auth = Authenticator(store, AuthSettings(secret=secrets.token_hex(32)))
        for name, role, enterprise in _users():
            auth.add_user(
                name,
                role,
                actor=ACTOR,
                password=PASSWORD,
                park_id=park.id,
                enterprise=enterprise,
                display_name="benchmark",
            )
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    done["setup_s"] = round(time.perf_counter() - t0, 1)
    done["store_mb"] = round(db.stat().st_size / 1e6, 1)
    return done


def prepared(size: Size) -> tuple[Path, dict[str, Any]]:
    """Return the cached store file for ``size`` (built when missing) and its setup record."""
    final = _cache_dir(size)
    record = final / "setup.json"
    if record.exists() and (final / "store.db").exists():
        return final / "store.db", {**json.loads(record.read_text()), "cached": True}
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f"{size.days}d-*"):  # other keys of this size
        if stale.name != final.name and ".partial" not in stale.name:
            shutil.rmtree(stale, ignore_errors=True)
    partial = final.parent / f"{final.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        done = _build(partial, size)
        (partial / "setup.json").write_text(json.dumps(done, indent=1) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final / "store.db", {**done, "cached": False}


# Sessions -----------------------------------------------------------------------------------
def _session_users(size: Size) -> list[tuple[str, str, str | None]]:
    """Who each session belongs to: every fifth one an emission unit, the rest managers."""
    users = _users()
    managers = [u for u in users if u[1] == "park_manager"]
    units = [u for u in users if u[1] == "emission_unit"]
    return [
        units[(i // 5) % len(units)] if i % 5 == 4 else managers[i % len(managers)]
        for i in range(size.sessions)
    ]


def _open_sessions(db: Path, secret: str, owners: list[tuple[str, str, str | None]]) -> list[str]:
    """Open a session for each owner as a sign-in does after the password check.

    A refresh token (its hash) is kept in the store and an access token is signed, with
    the public parts of :class:`~carbontwin.runtime.auth.Authenticator`.
    """
    import datetime as dt

    from carbontwin.runtime.access import Principal
    from carbontwin.runtime.accounting import resolve_park
    from carbontwin.runtime.auth import Authenticator, AuthSettings
    from carbontwin.store import Store

    park_id = resolve_park("demo").id
    store = Store.open(f"sqlite:///{db}")
    try:
        settings = AuthSettings(secret=secret)
        auth = Authenticator(store, settings)
        tokens = []
        for name, role, enterprise in owners:
            token_id = uuid.uuid4().hex
            secret_part = secrets.token_urlsafe(32)
            store.add_refresh_token(
                name,
                token_id,
                token_id,
                hashlib.sha256(secret_part.encode()).hexdigest(),
                dt.datetime.now(dt.UTC) + settings.refresh_ttl,
            )
            tokens.append(auth.access_token(Principal(name, role, park_id, enterprise)))
    finally:
        store.close()
    return tokens


def _sign_in(port: int, owners: list[tuple[str, str, str | None]]) -> tuple[list[str], list[float]]:
    """Sign each owner in over HTTP, one after the other; return tokens and latencies [s]."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    tokens, latencies = [], []
    try:
        for name, _, _ in owners:
            body = urllib.parse.urlencode({"username": name, "password": PASSWORD})
            t0 = time.perf_counter()
            conn.request(
                "POST",
                "/api/v1/auth/token",
                body,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            resp = conn.getresponse()
            data = resp.read()
            latencies.append(time.perf_counter() - t0)
            if resp.status != 200:
                msg = f"sign-in of {name} answered {resp.status}: {data[:300]!r}"
                raise RuntimeError(msg)
            tokens.append(json.loads(data)["access_token"])
    finally:
        conn.close()
    return tokens, latencies


def _first_answers(port: int, token: str, size: Size) -> dict[str, Any]:
    """Ask once for an overview and a month's inventory before any answer is kept.

    Returns the latencies of these first (uncached) answers [s], their sizes [bytes] and
    the months the inventory answer says have no stored inventory.
    """
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    paths = dict(_paths(size))
    out: dict[str, Any] = {}
    try:
        for name in ("overview", "inventory"):
            path = paths[name][0]
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            body = resp.read()
            out[f"{name}_cold_s"] = time.perf_counter() - t0
            out[f"{name}_bytes"] = len(body)
            out[f"{name}_status"] = resp.status
            if name == "inventory" and resp.status == 200:
                out["missing_months"] = json.loads(body).get("missing_months", [])
    finally:
        conn.close()
    return out


# The server -----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_stack() -> str:
    """Which event loop and HTTP parser uvicorn picks here (``--loop/--http auto``)."""
    import uvicorn

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn {uvicorn.__version__}, 1 worker, loop {loop}, http {parser}"


def _start_server(db: Path, secret: str, run_dir: Path) -> tuple[subprocess.Popen, int, float]:
    port = _free_port()
    env = {
        **os.environ,
        "CARBONTWIN_STORE_URL": f"sqlite:///{db}",
        "CARBONTWIN_PARK": "demo",
        "CARBONTWIN_SECRET_KEY": secret,
        "CARBONTWIN_HOME": str(run_dir),
    }
    log = (run_dir / "server.log").open("wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "carbontwin.api.main:app_from_env",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "auto",
            "--http",
            "auto",
            "--timeout-keep-alive",
            str(KEEP_ALIVE_S),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            tail = (run_dir / "server.log").read_text(errors="replace")[-3000:]
            msg = f"the API server exited with {proc.returncode} before answering:\n{tail}"
            raise RuntimeError(msg)
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            try:
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    return proc, port, time.perf_counter() - t0
            finally:
                conn.close()
        if time.monotonic() > deadline:
            _stop_server(proc)
            msg = "the API server did not answer /api/v1/health within 180 s"
            raise TimeoutError(msg)
        time.sleep(0.2)


def _stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# The load generator (runs in its own process) -------------------------------------------------
def _cpu_s(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` so far [s]; NaN where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Conn:
    """One HTTP/1.1 keep-alive connection answering GET requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self, path: str, token: str) -> int:
        """Send one GET and read its whole answer; return the status (0: connection lost)."""
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, closing = 0, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                closing = b"close" in value.lower()
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if closing:
            self.close()
        return status


async def _ask(conn: _Conn, path: str, token: str) -> int:
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            return await conn.get(path, token)
    except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        conn.close()
        return 0
    except TimeoutError:
        conn.close()
        return -1


async def _phase(
    conns: list[_Conn],
    paths: list[str],
    tokens: list[str],
    turn: itertools.count,
    spec: dict[str, Any],
) -> dict[str, Any]:
    """Run the closed-loop clients over ``paths``; measure after the warm-up."""
    loop_start = time.perf_counter()
    measure_from = loop_start + spec["warmup_s"]
    until = measure_from + spec["phase_s"]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    cpu: dict[str, float] = {}

    async def client(conn: _Conn, k: int) -> None:
        i = k
        while True:
            start = time.perf_counter()
            if start >= until:
                return
            status = await _ask(conn, paths[i % len(paths)], tokens[next(turn) % len(tokens)])
            i += 1
            if start >= measure_from:
                latencies.append(time.perf_counter() - start)
                statuses[status] += 1

    async def meter() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        cpu["server0"], cpu["load0"] = _cpu_s(spec["server_pid"]), time.process_time()
        await asyncio.sleep(max(0.0, until - time.perf_counter()))
        cpu["server1"], cpu["load1"] = _cpu_s(spec["server_pid"]), time.process_time()

    await asyncio.gather(meter(), *(client(c, k) for k, c in enumerate(conns)))
    return {
        "latencies": latencies,
        "statuses": dict(statuses),
        "seconds": spec["phase_s"],
        "server_cpu_s": cpu["server1"] - cpu["server0"],
        "load_cpu_s": cpu["load1"] - cpu["load0"],
    }


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    port, tokens = spec["port"], spec["tokens"]
    gate = asyncio.Semaphore(50)

    async def idle_one(conn: _Conn, k: int) -> bool:
        async with gate:
            return await _ask(conn, "/api/v1/health", tokens[k % len(tokens)]) == 200

    t0 = time.perf_counter()
    idle = [_Conn(port) for _ in range(spec["idle"])]
    opened = await asyncio.gather(*(idle_one(c, k) for k, c in enumerate(idle)))
    out: dict[str, Any] = {
        "idle_opened": sum(opened),
        "idle_open_s": time.perf_counter() - t0,
        "phases": {},
    }
    conns = [_Conn(port) for _ in range(spec["clients"])]
    turn = itertools.count()
    for name, paths in spec["phases"]:
        out["phases"][name] = await _phase(conns, paths, tokens, turn, spec)
    # Are the idle connections still there? Each is asked once more on its own socket.
    alive = await asyncio.gather(
        *(idle_one(c, k) for k, c in enumerate(idle) if c.writer is not None)
    )
    out["idle_alive"] = sum(alive)
    for c in [*idle, *conns]:
        c.close()
    return out


def _load_process(pipe: Any, spec: dict[str, Any]) -> None:
    """The load generator's process: run the phases, send the results back."""
    try:
        pipe.send(asyncio.run(_load(spec)))
    except BaseException as exc:
        pipe.send({"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        pipe.close()


def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    mine, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_load_process, args=(theirs, spec), name="api-load")
    proc.start()
    theirs.close()
    budget = 120 + len(spec["phases"]) * (spec["warmup_s"] + spec["phase_s"] + REQUEST_TIMEOUT_S)
    try:
        if not mine.poll(budget):
            msg = f"the load generator sent nothing within {budget:.0f} s"
            raise TimeoutError(msg)
        result = mine.recv()
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if "error" in result:
        msg = f"the load generator failed: {result['error']}"
        raise RuntimeError(msg)
    return result


# The run ----------------------------------------------------------------------------------
def _paths(size: Size) -> list[tuple[str, list[str]]]:
    months = [
        f"/api/v1/inventory?start={YEAR}-{m:02d}-01"
        f"&end={YEAR}-{m:02d}-{calendar.monthrange(YEAR, m)[1]:02d}&by=enterprise"
        for m in range(1, size.months + 1)
    ]
    return [
        ("trivial", ["/api/v1/health"]),
        ("trivial_auth", ["/api/v1/auth/me"]),
        ("overview", [f"/api/v1/overview?year={YEAR}"]),
        ("inventory", months),
    ]


def run(*, small: bool | None = None, out_dir: Path | str | None = None) -> Outcome:
    """Run the benchmark, write its result document and return the outcome.

    Parameters
    ----------
    small : bool, optional
        A month of history, 200 sessions and idle connections, 2-s phases (seconds, for
        tests); default from ``BENCH_SMALL``.
    out_dir : path, optional
        Where to write the JSON; ``benchmarks/results`` by default. A small run writes
        ``api-small.json``.
    """
    small = small_requested() if small is None else small
    size = SMALL if small else FULL
    t0 = time.perf_counter()
    golden, setup = prepared(size)
    seen: dict[str, Any] = {"setup": setup, "setup_s": time.perf_counter() - t0}
    run_dir = Path(tempfile.mkdtemp(prefix="carbontwin-bench-api-run-"))
    secret = secrets.token_hex(32)
    t0 = time.perf_counter()
    try:
        db = run_dir / "store.db"
        shutil.copyfile(golden, db)
        owners = _session_users(size)
        direct = _open_sessions(db, secret, owners[size.sign_ins :])
        seen["sessions_s"] = time.perf_counter() - t0
        proc, port, seen["start_s"] = _start_server(db, secret, run_dir)
        try:
            signed, seen["sign_in"] = _sign_in(port, owners[: size.sign_ins])
            seen["first"] = _first_answers(port, signed[0], size)
            seen["load"] = _drive(
                {
                    "port": port,
                    "tokens": signed + direct,
                    "phases": _paths(size),
                    "server_pid": proc.pid,
                    "idle": size.idle,
                    "clients": size.clients,
                    "warmup_s": size.warmup_s,
                    "phase_s": size.phase_s,
                }
            )
        finally:
            _stop_server(proc)
        seen["server_log"] = (run_dir / "server.log").read_text(errors="replace")
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    seen["run_s"] = time.perf_counter() - t0
    outcome = _outcome(size, seen)
    outcome.write(out_dir, stem=f"{NAME}-small" if small else NAME)
    return outcome


def _outcome(size: Size, seen: dict[str, Any]) -> Outcome:
    """The figures, references and notes of one run from what it measured."""
    load, setup, first = seen["load"], seen["setup"], seen["first"]
    figures: dict[str, float] = {}
    requests = errors = 0
    bad: Counter[str] = Counter()
    for name in PHASES:
        ph = load["phases"][name]
        lat = np.asarray(ph["latencies"])
        n = len(lat)
        p50, p95 = (float(x) for x in np.quantile(lat, [0.5, 0.95])) if n else (np.nan, np.nan)
        figures[f"{name}_p50_s"] = p50
        figures[f"{name}_p95_s"] = p95
        figures[f"{name}_req_per_s"] = n / ph["seconds"]
        figures[f"{name}_server_cpu_s"] = ph["server_cpu_s"] / n if n else np.nan
        requests += n
        for status, count in ph["statuses"].items():
            if int(status) != 200:
                errors += count
                label = {0: "connection lost", -1: "timed out"}.get(int(status), str(status))
                bad[f"{name} {label}"] += count
    figures["overview_vs_trivial_p95"] = figures["overview_p95_s"] / figures["trivial_p95_s"]
    figures["error_rate"] = errors / requests if requests else np.nan
    figures["overview_cold_s"] = first["overview_cold_s"]
    figures["inventory_cold_s"] = first["inventory_cold_s"]
    figures["sign_in_p50_s"] = float(np.median(seen["sign_in"])) if seen["sign_in"] else np.nan
    figures["idle_connections_open"] = float(load["idle_alive"])
    history = f"{setup['history_rows']:,} history rows" if "history_rows" in setup else "history"
    setup_note = (
        f"setup cached ({seen['setup_s']:.1f} s to find it; built once in {setup['setup_s']} s)"
        if setup.get("cached")
        else f"setup built in {seen['setup_s']:.1f} s (simulation {setup['simulate_s']} s, "
        f"monthly inventories {setup['inventories_s']} s), cached for the next runs"
    )
    notes = [
        f"{server_stack()}; load generator: one process, asyncio streams; {os.cpu_count()} "
        "CPUs shared by both",
        f"{size.clients} clients, {size.sessions:,} sessions ({size.sign_ins} signed in over "
        f"HTTP), {load['idle_opened']:,} idle keep-alive connections opened, "
        f"{load['idle_alive']:,} still open at the end; phases of {size.phase_s:g} s after "
        f"{size.warmup_s:g} s warm-up",
        f"store: {size.days} days of {YEAR} at 1-min steps ({history}, "
        f"{setup.get('store_mb', '?')} MB); monthly inventories stored: "
        f"{'yes' if setup.get('inventories') else 'no (save_monthly_inventories missing)'}",
        f"first answers: overview {first['overview_status']}, {first['overview_bytes']:,} bytes; "
        f"inventory {first['inventory_status']}, {first['inventory_bytes']:,} bytes, months "
        f"without a stored inventory: {', '.join(first.get('missing_months', [])) or 'none'}",
        setup_note,
        f"run {seen['run_s']:.1f} s: store copy and {size.sessions - size.sign_ins} sessions "
        f"{seen['sessions_s']:.1f} s, server start {seen['start_s']:.1f} s, idle connections "
        f"{load['idle_open_s']:.1f} s",
        "load generator CPU per phase: "
        + ", ".join(
            f"{n} {load['phases'][n]['load_cpu_s'] / load['phases'][n]['seconds']:.0%}"
            for n in PHASES
        )
        + " of one core",
    ]
    if bad:
        notes.append("errors: " + ", ".join(f"{k} ×{v}" for k, v in sorted(bad.items())))
    tracebacks = seen["server_log"].count("Traceback")
    if tracebacks:
        notes.append(f"the server logged {tracebacks} tracebacks")
    return Outcome(
        name=NAME,
        figures=figures,
        targets=dict(TARGETS),
        references={
            "trivial_p95_s": "GET /api/v1/health",
            "trivial_auth_p95_s": "GET /api/v1/auth/me (token checked)",
            "overview_p95_s": f"GET /api/v1/overview?year={YEAR}",
            "inventory_p95_s": f"one month by enterprise, {size.months} months in turn",
            "overview_vs_trivial_p95": "health check = 1",
            "error_rate": "non-200 or connection error, all phases",
            "overview_cold_s": "first answer, nothing kept yet, one client",
            "inventory_cold_s": "first answer, nothing kept yet, one client",
            "sign_in_p50_s": f"{size.sign_ins} sign-ins over HTTP, Argon2",
            "idle_connections_open": f"of {size.idle:,}",
        },
        units=UNITS,
        notes=notes,
    )
