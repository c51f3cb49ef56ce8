"""The ``carbontwin`` command line (typer + rich)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from carbontwin.accounting import FactorLibrary
from carbontwin.core.errors import ValidationError
from carbontwin.core.park import Park
from carbontwin.locales import text
from carbontwin.runtime import accounting as uc
from carbontwin.runtime import registry as reg
from carbontwin.runtime import simulate as sim
from carbontwin.runtime.ingest import IngestSummary

app = typer.Typer(help=text("app.help"), no_args_is_help=True, add_completion=False)
factors_app = typer.Typer(help=text("factors.help"), no_args_is_help=True)
app.add_typer(factors_app, name="factors")
users_app = typer.Typer(help=text("users.help"), no_args_is_help=True)
app.add_typer(users_app, name="users")
strategy_app = typer.Typer(help=text("strategy.help"), no_args_is_help=True)
app.add_typer(strategy_app, name="strategy")
scenario_app = typer.Typer(help=text("scenario.help"), no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
reduce_app = typer.Typer(help=text("reduce.help"), no_args_is_help=True)
app.add_typer(reduce_app, name="reduce")
# Wide enough for the inventory table when the output is a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 180)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 180)


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {escape(str(exc))}")
    raise typer.Exit(2)


def _progress(label: str) -> tuple[Progress, object]:
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=err,
        transient=True,
    )
    return bar, bar.add_task(label, total=1)


def _print_table(df: pd.DataFrame, title: str, lang: str) -> None:
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(
            text(f"col.{col}", lang), justify="right" if col not in ("period", "level") else "left"
        )
    for _, row in df.iterrows():
        table.add_row(*[f"{v:,.0f}" if isinstance(v, float) else escape(str(v)) for v in row])
    console.print(table)


def _print_validation(run: uc.AccountRun, lang: str) -> None:
    summary = run.validation.summary()
    if not summary.get("accepted") and not summary.get("quarantined"):
        return
    title = text(
        "validation.title",
        lang,
        accepted=summary.get("accepted", 0),
        quarantined=summary.get("quarantined", 0),
    )
    if not run.validation.quarantine:
        console.print(title)
        return
    table = Table(title=title)
    table.add_column(text("validation.rule", lang))
    table.add_column(text("validation.reason", lang))
    for q in run.validation.quarantine:
        table.add_row(q.rule, escape(q.reason))
    console.print(table)


def _show_run(
    run: uc.AccountRun, park: Park, by: str, fmt: str, level: str, lang: str, output: Path | None
) -> None:
    for w in run.inventory.warnings:
        err.print(f"[yellow]{text('warning', lang)}:[/] {escape(w)}")
    if fmt == "table":
        title = text(
            "account.title",
            lang,
            park=park.name_zh if lang == "zh" and park.name_zh else park.name,
            start=run.period.start,
            end=run.period.end,
        )
        _print_table(uc.summary_table(run, by, level), title, lang)
        _print_validation(run, lang)
        return
    out = uc.export_inventory(run, fmt, by, level, output)
    if output:
        err.print(text("written", lang, path=output))
    elif isinstance(out, bytes):
        sys.stdout.buffer.write(out)
    else:
        sys.stdout.write(out + ("" if out.endswith("\n") else "\n"))


def _run_account(
    park_spec: str,
    activity: list[Path],
    period: str,
    by: str,
    fmt: str,
    level: str,
    lang: str,
    output: Path | None,
    store_url: str | None,
    stored: bool,
    as_of: str | None,
    simulated: bool = False,
) -> None:
    try:
        if simulated:
            store = reg.open_store(store_url)
            park = uc.resolve_park(park_spec)
            run = reg.account_history(
                store,
                park,
                period,
                activity=activity,
                stored=stored,
                overrides=store.overrides(park.id),
            )
            _show_run(run, park, by, fmt, level, lang, output)
            return
        if store_url or stored or as_of:
            store = reg.open_store(store_url)
            park_id = uc.resolve_park(park_spec).id if park_spec != "-" else None
            day = dt.date.fromisoformat(as_of) if as_of else None
            park, entries, overrides = reg.stored_inputs(
                store, park_spec, park_id, day, period, stored
            )
        else:
            park, entries, overrides = uc.resolve_park(park_spec), [], []
        bar, task = _progress(text("progress.reading", lang))
        with bar:

            def tick(_label: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=max(total, 1))

            run = uc.account(
                park, period, activity=activity, entries=entries, overrides=overrides, progress=tick
            )
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    _show_run(run, park, by, fmt, level, lang, output)


@app.command(help=text("account.help"))
def account(
    park: str = typer.Argument(..., help="park YAML file, or 'demo'"),
    activity: list[Path] = typer.Option(
        [], "--activity", "-a", help="activity file (.csv or .xlsx); repeatable"
    ),
    period: str = typer.Option(..., "--period", "-p", help="2025, 2025-Q1, 2025-03, A/B"),
    by: str = typer.Option("month", "--by", help="year, quarter, month or day"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv, json or xlsx"),
    level: str = typer.Option("park", "--level", help="park, zone, industry or enterprise"),
    lang: str = typer.Option("en", "--lang", help="en or zh"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write to this file"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    stored: bool = typer.Option(False, "--stored", help="use activity stored in the database"),
    as_of: str | None = typer.Option(
        None, "--as-of", help="rebuild the registry as it was on this date"
    ),
    simulated: bool = typer.Option(
        False,
        "--simulated",
        help="account the metered history in the store (carbontwin "
        "simulate writes it); ledger files complete the other sources",
    ),
) -> None:
    """Account a park for a period."""
    if fmt == "xlsx" and output is None:
        _fail(ValidationError("--format xlsx needs --output FILE.xlsx"))
    _run_account(
        park, activity, period, by, fmt, level, lang, output, store_url, stored, as_of, simulated
    )


@app.command("import", help=text("import.help"))
def import_(
    park: str = typer.Argument(..., help="park YAML file, or 'demo'"),
    files: list[Path] = typer.Argument(..., help="activity files (.csv or .xlsx)"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    user: str = typer.Option("cli", "--user", help="who imports (for the audit log)"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Validate files, store good rows and quarantine bad ones, with an audit record."""
    try:
        store = reg.open_store(store_url)
        summary = reg.import_files(store, uc.resolve_park(park), files, user)
    except (ValidationError, ValueError, OSError) as exc:
        _fail(exc)
        return
    table = Table(
        title=text(
            "validation.title",
            lang,
            accepted=summary.get("accepted", 0),
            quarantined=summary.get("quarantined", 0),
        )
    )
    table.add_column(text("validation.rule", lang))
    table.add_column(text("validation.count", lang), justify="right")
    for k, v in sorted(summary.items()):
        table.add_row(k, str(v))
    console.print(table)


@app.command(help=text("demo.help"))
def demo(
    days: int = typer.Option(365, "--days", min=1, help="days of 2025 to simulate"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    live: bool = typer.Option(False, "--live", help="then run the live park (Ctrl-C stops)"),
    speed: float = typer.Option(60.0, "--speed", min=1.0, help="live: times real time"),
    seconds: float | None = typer.Option(None, "--seconds", help="live: stop after this"),
    api_port: int = typer.Option(8000, "--api-port"),
    dashboard_port: int = typer.Option(5006, "--dashboard-port"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Account the demo park from its ledgers, then from its simulated 2025 history."""
    ledger, manual = uc.demo_activity_paths()
    # 1. The ledgers, with three deliberately bad manual rows to show the quarantine.
    _run_account(
        "demo", [ledger, manual], "2025", "month", "table", "park", lang, None, None, False, None
    )
    # 2. The virtual park: simulate the year once, then account its metered history.
    try:
        park = uc.resolve_park("demo")
        store = reg.open_store(store_url)
        period = sim.run_period(park, "2025-01-01", days)
        if sim.history_coverage(store, park, period.start, period.end) < 1.0:
            reg.register_park(store, park, "simulator")
            bar, task = _progress(text("progress.simulating", lang))
            with bar:
                sim.simulate_to_store(
                    store,
                    park,
                    period.start,
                    days,
                    60,
                    2025,
                    7,
                    progress=lambda _l, done, total: bar.update(task, completed=done, total=total),
                )
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    console.print(text("demo.simulated", lang, start=period.start, end=period.end))
    _run_account(
        "demo",
        [ledger],
        period.label,
        "month",
        "table",
        "park",
        lang,
        None,
        store_url,
        False,
        None,
        simulated=True,
    )
    _run_account(
        "demo",
        [ledger],
        period.label,
        "year",
        "table",
        "zone",
        lang,
        None,
        store_url,
        False,
        None,
        simulated=True,
    )
    # 3. Store the monthly inventories the API and dashboard answer from (once), and the
    #    demo's users of each role.
    try:
        _store_demo_inventories(store, park, period, lang)
        _demo_users(store, park, lang)
        if live:
            _live(store, park, speed, seconds, api_port, dashboard_port, lang)
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
    finally:
        store.close()


def _live(
    store: object,
    park: Park,
    speed: float,
    seconds: float | None,
    api_port: int,
    dashboard_port: int,
    lang: str,
) -> None:
    """Run the live park with the API and the dashboard until Ctrl-C (or ``seconds``)."""
    import threading

    import uvicorn

    from carbontwin import dashboard as board
    from carbontwin.api import create_app
    from carbontwin.connectors.mqtt import find_mosquitto
    from carbontwin.runtime.auth import Authenticator, AuthSettings, load_secret
    from carbontwin.runtime.live_demo import run_live

    settings = AuthSettings(secret=load_secret())
    api_port = _pick_port(api_port, "API", lang)
    dashboard_port = _pick_port(dashboard_port, "dashboard", lang)

    def serve(ingestor: object) -> object:
        api = uvicorn.Server(
            uvicorn.Config(
                create_app(store, park, auth=settings, ingestor=ingestor),
                host="127.0.0.1",
                port=api_port,
                log_level="warning",
            )
        )
        api_thread = threading.Thread(target=api.run, name="api", daemon=True)
        api_thread.start()
        auth = Authenticator(store, settings)
        web = board.serve(
            board.Dashboard(store, park, auth, state=ingestor.state, clock=ingestor.clock),
            port=dashboard_port,
            threaded=True,
        )
        console.print(
            text(
                "demo.live",
                lang,
                api=f"http://127.0.0.1:{api_port}/docs",
                web=f"http://127.0.0.1:{dashboard_port}/",
                speed=f"{speed:g}",
            )
        )

        def stop() -> None:
            api.should_exit = True
            web.stop()
            api_thread.join(timeout=10)

        return stop

    if find_mosquitto() is None:
        err.print(f"[yellow]{escape(text('demo.no_broker', lang))}[/]")
    stop = threading.Event()

    def tick(s: object) -> None:
        bar.update(task, description=text("demo.live_tick", lang, **vars(s)))

    bar = Progress(TextColumn("{task.description}"), console=err, transient=True)
    task = bar.add_task("", total=None)
    with bar:
        try:
            summary = run_live(
                store,
                park,
                speed=speed,
                seconds=seconds,
                stop=stop,
                serve=serve,
                on_tick=tick,
            )
        except KeyboardInterrupt:
            stop.set()
            return
    console.print(text("demo.live_done", lang, **vars(summary)))


def _pick_port(port: int, what: str, lang: str) -> int:
    """Return ``port`` when it is free on the loopback interface, else a free one (warned)."""
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            s.bind(("127.0.0.1", 0))
            free = int(s.getsockname()[1])
    err.print(f"[yellow]{escape(text('demo.port_busy', lang, what=what, port=port, free=free))}[/]")
    return free


#: The demo's users: name → (role, enterprise). They share DEMO_PASSWORD.
DEMO_USERS = {
    "manager": ("park_manager", None),
    "energy": ("energy_manager", None),
    "operator": ("platform_operator", None),
    "e04": ("emission_unit", "E04"),
}
DEMO_PASSWORD = "Demo-Carbon-2025"


def _demo_users(store: object, park: Park, lang: str) -> None:
    from carbontwin.runtime.auth import Authenticator, AuthSettings, load_secret

    auth = Authenticator(store, AuthSettings(secret=load_secret()))
    for name, (role, ent) in DEMO_USERS.items():
        if store.user(name) is None:
            auth.add_user(
                name, role, actor="demo", password=DEMO_PASSWORD, park_id=park.id, enterprise=ent
            )
    table = Table(title=text("demo.users", lang))
    for col in ("username", "role", "enterprise"):
        table.add_column(text(f"users.{col}", lang))
    for name, (role, ent) in DEMO_USERS.items():
        table.add_row(name, role, ent or "")
    console.print(table)
    console.print(text("demo.logins", lang, password=DEMO_PASSWORD))


def _store_demo_inventories(store: object, park: Park, period: object, lang: str) -> None:
    from carbontwin.runtime.integrity import save_inventory

    ledger, _ = uc.demo_activity_paths()
    stored = store.inventories(park.id, period.start, period.end)
    months = pd.period_range(period.start, period.end, freq="M")
    if len(stored) >= len(months):
        return
    if not store.entries(park.id, period.start, period.end):
        reg.import_files(store, park, [ledger], user="demo")
    bar, task = _progress(text("progress.inventories", lang))
    with bar:
        bar.update(task, total=len(months))
        for i, m in enumerate(months, start=1):
            save_inventory(store, park, str(m), actor="demo")
            bar.update(task, completed=i)
    console.print(text("demo.inventories", lang, n=len(months)))


@app.command(help=text("watch.help"))
def watch(
    folder: Path = typer.Argument(..., help="the inbox folder"),
    park: str = typer.Option("demo", "--park", help="park YAML file, or 'demo'"),
    interval: float = typer.Option(5.0, "--interval", help="seconds between scans"),
    once: bool = typer.Option(False, "--once", help="scan twice (to see sizes settle), exit"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """File sync: import every CSV/XLSX dropped in FOLDER once, then move it aside."""
    import time

    try:
        sync = reg.file_sync(reg.open_store(store_url), uc.resolve_park(park), folder)
        scans = 0
        while True:
            for r in sync.scan():
                console.print(
                    text(
                        "watch.file",
                        lang,
                        name=r.name,
                        status=r.status,
                        accepted=r.summary.get("accepted", 0),
                        quarantined=r.summary.get("quarantined", 0),
                    )
                )
            scans += 1
            if once and scans >= 2:
                return
            time.sleep(interval if not once else 0.2)
    except KeyboardInterrupt:
        return
    except (ValidationError, ValueError, OSError) as exc:
        _fail(exc)


@app.command(help=text("upload.help"))
def upload(
    bundle: Path = typer.Argument(..., help="a collector's offline bundle"),
    keys: Path = typer.Option(..., "--keys", help="JSON of collector id to hex key"),
    park: str = typer.Option("demo", "--park", help="park YAML file, or 'demo'"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Offline sync: verify a collector's bundle and ingest its readings."""
    from carbontwin.runtime import offline

    try:
        manifest, summary = offline.upload_bundle(
            reg.open_store(store_url), uc.resolve_park(park), bundle, offline.collector_keys(keys)
        )
    except (ValidationError, ValueError, OSError) as exc:
        _fail(exc)
        return
    console.print(
        text(
            "upload.done",
            lang,
            collector=manifest["collector"],
            first=manifest["first_seq"],
            last=manifest["last_seq"],
            stored=summary.stored,
            duplicate=summary.duplicate,
            quarantined=summary.quarantined,
        )
    )


def _print_ingest(summary: IngestSummary, lang: str) -> None:
    console.print(
        text(
            "ingest.done",
            lang,
            received=summary.received,
            stored=summary.stored,
            duplicate=summary.duplicate,
            quarantined=summary.quarantined,
        )
    )


@app.command(help=text("listen.help"))
def listen(
    broker: str = typer.Option("127.0.0.1:1883", "--broker", help="HOST:PORT"),
    username: str | None = typer.Option(None, "--username"),
    password: str | None = typer.Option(None, "--password", envvar="CARBONTWIN_MQTT_PASSWORD"),
    ca_certs: str | None = typer.Option(None, "--ca-certs", help="CA bundle: turns TLS on"),
    certfile: str | None = typer.Option(None, "--certfile", help="client certificate"),
    keyfile: str | None = typer.Option(None, "--keyfile", help="client key"),
    seconds: float | None = typer.Option(None, "--seconds", help="stop after this long"),
    park: str = typer.Option("demo", "--park", help="park YAML file, or 'demo'"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Ingest the park's readings from an MQTT broker (message queue, real time)."""
    from carbontwin.connectors.mqtt import BrokerSettings
    from carbontwin.runtime.live import listen_mqtt

    host, _, port = broker.rpartition(":")
    try:
        settings = BrokerSettings(
            host or "127.0.0.1", int(port), username, password, ca_certs, certfile, keyfile
        )
        total = listen_mqtt(
            reg.open_store(store_url), uc.resolve_park(park), settings, seconds=seconds
        )
    except KeyboardInterrupt:
        return
    except (ValidationError, ValueError, OSError, RuntimeError) as exc:
        _fail(exc)
        return
    _print_ingest(total, lang)


@app.command(help=text("pull.help"))
def pull(
    url: str = typer.Argument(..., help="the REST source's readings endpoint"),
    cursor: str | None = typer.Option(None, "--cursor", help="resume after this cursor"),
    token: str | None = typer.Option(None, "--token", envvar="CARBONTWIN_PULL_TOKEN"),
    park: str = typer.Option("demo", "--park", help="park YAML file, or 'demo'"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Pull new readings from a REST source into the pipeline (API sync)."""
    from carbontwin.runtime.live import pull_rest

    try:
        total, new_cursor = pull_rest(
            reg.open_store(store_url), uc.resolve_park(park), url, cursor=cursor, token=token
        )
    except (ValidationError, ValueError, OSError, RuntimeError) as exc:
        _fail(exc)
        return
    _print_ingest(total, lang)
    console.print(text("pull.cursor", lang, cursor=new_cursor))


@app.command(help=text("indicators.help"))
def indicators(
    park: str = typer.Argument(..., help="park YAML file, or 'demo'"),
    period: str = typer.Option(..., "--period", "-p"),
    by: str = typer.Option("year", "--by"),
    activity: list[Path] = typer.Option([], "--activity", "-a"),
    stats: list[Path] = typer.Option([], "--stats", "-s", help="statistics file; repeatable"),
    entity: str = typer.Option("park", "--entity", help="'park' or an enterprise id"),
    expr: list[str] = typer.Option([], "--expr", help="custom indicator NAME=EXPRESSION"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Intensity indicators per 10^4 CNY of value added and per tonne of product."""
    try:
        p = uc.resolve_park(park)
        if park == "demo":
            activity = activity or uc.demo_activity_paths()
            stats = stats or [uc.demo_statistics_path()]
        custom = {}
        for item in expr:
            name, sep, expression = item.partition("=")
            if not sep or not name.strip():
                _fail(ValidationError(f"--expr {item!r} must be NAME=EXPRESSION"))
            custom[name.strip()] = expression
        statistics, bad = uc.read_statistics(stats)
        run = uc.account(p, period, activity=activity)
        table = uc.indicators(run, statistics, by=by, entity=entity, custom=custom)
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    for q in bad:
        err.print(f"[yellow]{text('warning', lang)}:[/] {escape(q.reason)}")
    if fmt == "json":
        sys.stdout.write(table.reset_index().to_json(orient="records", force_ascii=False) + "\n")
    elif fmt == "csv":
        sys.stdout.write(table.to_csv())
    else:
        out = Table(title=text("indicators.title", lang, entity=entity))
        out.add_column(text("col.period", lang))
        for col in table.columns:
            out.add_column(
                text(f"ind.{col}", lang) if not col.startswith(("output_", "co2_per_t_")) else col,
                justify="right",
            )
        for label, row in table.iterrows():
            out.add_row(str(label), *[f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}" for v in row])
        console.print(out)


@app.command(help=text("forecast.help"))
def forecast(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    day: str = typer.Option(..., "--day", "-d", help="the local day forecast, YYYY-MM-DD"),
    model: str = typer.Option("gbm", "--model", "-m", help="gbm, seasonal_naive or sarimax"),
    contracted_kw: float | None = typer.Option(None, "--contracted-kw", help="for P(exceed)"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Forecast the park's electric demand of a day (day-ahead), with its band and peak."""
    from carbontwin.runtime.forecast import forecast_day

    try:
        p = uc.resolve_park(park)
        store = reg.open_store(store_url)
        try:
            with console.status(text("forecast.fitting", lang, model=model)):
                result = forecast_day(store, p, day, model=model, contracted_kw=contracted_kw)
        finally:
            store.close()
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        return
    frame = result.frame.copy()
    frame.index = frame.index.strftime("%H:%M")
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index_label="hour"))
        return
    _print_frame(frame, text("forecast.title", lang, day=result.day, model=model), "hour")
    peak = result.peak
    console.print(
        text(
            "forecast.peak",
            lang,
            peak=f"{peak['peak']:,.0f}",
            hour=int(peak["peak_hour"]),
            exceed="–" if peak["p_exceed"] != peak["p_exceed"] else f"{peak['p_exceed']:.0%}",
        )
    )


@app.command(help=text("allocate.help"))
def allocate(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    year: int = typer.Option(..., "--year", "-y", help="the target year"),
    method: str = typer.Option(
        "historical_share", "--method", "-m", help="historical_share or growth_adjusted"
    ),
    indicator: str = typer.Option("emissions_tco2e", "--indicator", help="or energy_tce"),
    target: float | None = typer.Option(None, "--target", help="default: the park's own"),
    fix: list[str] = typer.Option([], "--fix", help="pin a row, ID=VALUE; repeatable"),
    level: str = typer.Option("enterprise", "--level", help="enterprise or industry"),
    monthly: bool = typer.Option(False, "--monthly", help="also the split by month"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Suggest how a park target is shared among enterprises, from the stored history."""
    from carbontwin.runtime.targets import suggest_allocation

    fixed = {}
    for item in fix:
        key, sep, value = item.partition("=")
        try:
            fixed[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            _fail(ValidationError(f"--fix {item!r} must be ID=VALUE, e.g. E04=9000"))
            return
    try:
        p = uc.resolve_park(park)
        store = reg.open_store(store_url)
        try:
            result = suggest_allocation(
                store,
                p,
                year=year,
                method=method,
                indicator=indicator,
                target=target,
                fixed=fixed or None,
                level=level,
            )
        finally:
            store.close()
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    frame = result.to_frame()
    reason = "reason_zh" if lang == "zh" else "reason_en"
    shown = frame[["allocation", "share", "fixed", reason]].rename(columns={reason: "reason"})
    if fmt == "json":
        doc = {
            "method": result.method,
            "year": result.year,
            "indicator": result.indicator,
            "target": result.target,
            "rows": shown.reset_index().to_dict(orient="records"),
        }
        if monthly and result.monthly_history is not None:
            doc["monthly"] = result.monthly().to_dict()
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
        return
    if fmt == "csv":
        split = monthly and result.monthly_history is not None
        sys.stdout.write((result.monthly() if split else shown).to_csv())
        return
    _print_frame(
        shown,
        text("allocate.title", lang, year=year, method=method, target=f"{result.target:,.0f}"),
        level,
    )
    if monthly and result.monthly_history is not None:
        _print_frame(result.monthly(), text("allocate.monthly", lang), "month")


@app.command("park-reference", help=text("park_reference.help"))
def park_reference() -> None:
    """Print the reference of the park file (docs/park.md) from the models' declarations."""
    sys.stdout.write(uc.park_reference())


def _print_frame(df: pd.DataFrame, title: str, index_label: str) -> None:
    table = Table(title=title)
    table.add_column(index_label)
    for col in df.columns:
        table.add_column(str(col), justify="right")
    for label, row in df.iterrows():
        cells = []
        for v in row:
            if isinstance(v, float) and v != v:  # NaN
                cells.append("–")
            elif isinstance(v, float):
                cells.append(f"{v:,.0f}" if abs(v) >= 100 else f"{v:.4g}")
            else:
                cells.append(escape(str(v)))
        table.add_row(escape(str(label)), *cells)
    console.print(table)


@app.command(help=text("simulate.help"))
def simulate(
    park: str = typer.Option("demo", "--park", help="park YAML file, or 'demo'"),
    start: str = typer.Option("2025-01-01", "--start", help="first day (local midnight)"),
    days: int = typer.Option(365, "--days", min=1),
    step: str = typer.Option("1min", "--step", help="simulation step, e.g. 1min, 30s, 5min"),
    seed: int = typer.Option(0, "--seed"),
    recent_days: float = typer.Option(7.0, "--recent-days", help="days of raw readings kept"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Simulate the park and write its history (15-min energy, recent raw readings)."""
    try:
        p = uc.resolve_park(park)
        step_s = sim.parse_step(step)
        store = reg.open_store(store_url)
        reg.register_park(store, p, "simulator")
        bar, task = _progress(text("progress.simulating", lang))
        with bar:
            summary = sim.simulate_to_store(
                store,
                p,
                start,
                days,
                step_s,
                seed,
                recent_days,
                progress=lambda _l, done, total: bar.update(task, completed=done, total=total),
            )
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    cols = [
        "grid_import_kwh",
        "pv_kwh",
        "chp_supply_kwh",
        "natural_gas_1e4nm3",
        "coal_t",
        "energy_tce",
        "scope1_tco2e",
        "scope2_tco2e",
        "cost_cny",
        "peak_kw",
    ]
    _print_frame(
        summary.kpis[[c for c in cols if c in summary.kpis.columns]],
        text("simulate.title", lang, park=p.name, start=summary.start, end=summary.end),
        text("col.level", lang),
    )
    console.print(
        text(
            "simulate.done",
            lang,
            steps=summary.steps,
            points=summary.points,
            history=summary.history_rows,
            raw=summary.raw_rows,
            seconds=f"{summary.seconds:.1f}",
        )
    )
    for note in summary.notes:
        err.print(f"[yellow]{text('warning', lang)}:[/] {escape(note)}")


def _modifications(add_pv: list[str], add_battery: list[str], setpoint: list[str]) -> list:
    from carbontwin.twin import AddBattery, AddPv, SetSetpoint

    mods: list = []
    for item in add_pv:
        ent, _, kw = item.partition(":")
        mods.append(AddPv(ent, float(kw)))
    for item in add_battery:
        parts = item.split(":")
        if len(parts) not in (3, 4):
            msg = f"--add-battery {item!r} must be ENTERPRISE:KWH:KW[:PEAK_KW]"
            raise ValidationError(msg)
        mods.append(
            AddBattery(
                parts[0],
                float(parts[1]),
                float(parts[2]),
                float(parts[3]) if len(parts) == 4 else None,
            )
        )
    for item in setpoint:
        name, sep, value = item.partition("=")
        if not sep:
            msg = f"--set {item!r} must be ASSET.SETPOINT=VALUE"
            raise ValidationError(msg)
        mods.append(SetSetpoint(name.strip(), float(value)))
    return mods


@app.command("whatif", help=text("whatif.help"))
def whatif(
    park: str = typer.Option("demo", "--park"),
    start: str = typer.Option("2025-07-01", "--start"),
    days: int = typer.Option(7, "--days", min=1),
    add_pv: list[str] = typer.Option([], "--add-pv", help="ENTERPRISE:KW, e.g. E04:500"),
    add_battery: list[str] = typer.Option(
        [], "--add-battery", help="ENTERPRISE:KWH:KW[:PEAK_KW], e.g. E03:2000:500:7000"
    ),
    setpoint: list[str] = typer.Option([], "--set", help="ASSET.SETPOINT=VALUE"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Simulate with and without modifications and show the KPI differences."""
    try:
        p = uc.resolve_park(park)
        mods = _modifications(add_pv, add_battery, setpoint)
        if not mods:
            _fail(ValidationError("give at least one of --add-pv, --add-battery, --set"))
        study = sim.what_if(p, mods, start, days)
    except (ValidationError, ValueError, KeyError) as exc:
        _fail(exc)
        return
    _print_frame(study.kpis, text("whatif.title", lang, park=p.name, days=days), "KPI")


@factors_app.command("list")
def factors_list(
    kind: str | None = typer.Option(None, "--kind", help="ncv, cc, of, grid, gwp, tce ..."),
    factor_set: str | None = typer.Option(None, "--set", help="only this set"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """List the built-in factors with their provenance."""
    table = Table()
    for col in ("key", "set", "value", "unit", "verified", "source"):
        table.add_column(text(f"factors.{col}", lang), overflow="fold")
    for f in FactorLibrary.builtin():
        if (kind and f.kind != kind) or (factor_set and f.set != factor_set):
            continue
        table.add_row(
            f.key, f.set, f"{f.value:g}", f.unit, "yes" if f.verified else "no", f.source[:80]
        )
    console.print(table)


@factors_app.command("show")
def factors_show(key: str = typer.Argument(..., help="e.g. ncv:natural_gas")) -> None:
    """Show every set's value of one factor, with source, clause, year and notes."""
    rows = FactorLibrary.builtin().find(key)
    if not rows:
        _fail(KeyError(f"no factor {key!r}; see 'carbontwin factors list'"))
    for f in rows:
        console.print(
            f"[bold]{f.label}[/]\n  source: {f.source}\n  clause: {f.clause}\n"
            f"  year: {f.year}  verified: {f.verified}  ref: {f.ref}  file: {f.file}\n"
            f"  notes: {f.notes}"
        )


@factors_app.command("set")
def factors_set(
    park: str = typer.Argument(..., help="park YAML file, or 'demo'"),
    key: str = typer.Argument(..., help="factor key, e.g. ncv:natural_gas"),
    value: float = typer.Argument(...),
    unit: str = typer.Argument(..., help="unit of the value, e.g. GJ/wNm3"),
    reason: str = typer.Option(..., "--reason", help="why the default does not apply"),
    applies_to: str = typer.Option("park", "--applies-to", help="park, enterprise or source"),
    target: str = typer.Option("", "--target", help="enterprise or source id"),
    valid_from: str | None = typer.Option(None, "--from"),
    valid_to: str | None = typer.Option(None, "--to"),
    source_doc: str = typer.Option("", "--source", help="document the value comes from"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    user: str = typer.Option("cli", "--user"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Override a factor for the park, an enterprise or a source (audited)."""
    try:
        store = reg.open_store(store_url)
        o = reg.set_override(
            store,
            uc.resolve_park(park),
            key=key,
            value=value,
            unit=unit,
            reason=reason,
            applies_to=applies_to,
            target=target,
            valid_from=valid_from,
            valid_to=valid_to,
            source=source_doc,
            user=user,
        )
    except (ValidationError, ValueError, KeyError) as exc:
        _fail(exc)
        return
    console.print(
        text(
            "factors.saved",
            lang,
            id=o.id,
            factor=key,
            start=o.valid_from or "…",
            end=o.valid_to or "…",
        )
    )


@app.command(help=text("collect.help"))
def collect(
    config: Path = typer.Argument(..., help="collector configuration, YAML or JSON"),
    cycles: int | None = typer.Option(None, "--cycles", min=1, help="stop after N polls"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Collector: poll Modbus devices, buffer on disk, forward signed batches."""
    from carbontwin.runtime import collect as col

    try:
        agent = col.CollectorAgent(col.load_collect_config(config))
    except (ValidationError, ValueError, OSError) as exc:
        _fail(exc)
        return
    done = 0
    held = 0

    def show(report: col.CycleReport) -> None:
        nonlocal done, held
        done += 1
        held = report.held
        console.print(
            text(
                "collect.cycle",
                lang,
                n=done,
                polled=report.polled,
                buffered=report.buffered,
                skipped=report.skipped,
                sent=report.sent,
                held=report.held,
            )
        )
        if report.error:
            err.print(f"[yellow]{escape(text('collect.link_down', lang, error=report.error))}[/]")

    try:
        agent.run(cycles, on_cycle=show)
    except KeyboardInterrupt:
        pass
    except (ValidationError, ValueError, OSError) as exc:
        _fail(exc)
    finally:
        agent.close()
    console.print(
        text("collect.done", lang, collector=agent.config.collector, cycles=done, held=held)
    )


def _authenticator(store_url: str | None) -> object:
    from carbontwin.runtime.auth import Authenticator, AuthSettings, load_secret

    return Authenticator(reg.open_store(store_url), AuthSettings(secret=load_secret()))


@app.command(help=text("serve.help"))
def serve(
    park: str = typer.Option("demo", "--park", help="park YAML file, or 'demo'"),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, help="server processes"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    collector_keys: Path | None = typer.Option(None, "--collector-keys", help="JSON file"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Serve the HTTP API (uvicorn); the OpenAPI documentation is at /docs."""
    import os

    import uvicorn

    if store_url and (store_url.rstrip("/") == "sqlite:" or ":memory:" in store_url):
        _fail(ValueError("the API needs a database file or server, not an in-memory SQLite"))
    try:
        store = reg.open_store(store_url)
        served = reg.serving_park(store, park)
        store.close()
    except (ValidationError, ValueError, OSError) as exc:
        _fail(exc)
    os.environ["CARBONTWIN_PARK"] = park
    if store_url:
        os.environ["CARBONTWIN_STORE_URL"] = store_url
    if collector_keys:
        os.environ["CARBONTWIN_COLLECTOR_KEYS"] = str(collector_keys)
    console.print(text("serve.start", lang, park=served.name, url=f"http://{host}:{port}/docs"))
    uvicorn.run(
        "carbontwin.api.main:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_keep_alive=75,
        log_level="warning",
    )


@app.command(help=text("dashboard.help"))
def dashboard(
    park: str = typer.Option("demo", "--park", help="park YAML file, or 'demo'"),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(5006, "--port"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Serve the web dashboard (Panel); sign in with the platform's users."""
    from carbontwin import dashboard as board
    from carbontwin.runtime.auth import Authenticator, AuthSettings, load_secret

    try:
        store = reg.open_store(store_url)
        served = reg.serving_park(store, park)
    except (ValidationError, ValueError, OSError) as exc:
        _fail(exc)
    auth = Authenticator(store, AuthSettings(secret=load_secret()))
    console.print(text("dashboard.start", lang, park=served.name, url=f"http://{host}:{port}/"))
    board.serve(board.Dashboard(store, served, auth), port=port, address=host)


@users_app.command("add")
def users_add(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="emission_unit, park_manager, ..."),
    park: str = typer.Option("demo", "--park", help="park YAML file, or 'demo'"),
    enterprise: str | None = typer.Option(None, "--enterprise", help="for emission units"),
    service: bool = typer.Option(False, "--service", help="a service account (API key)"),
    name: str = typer.Option("", "--name", help="display name"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    user: str = typer.Option("cli", "--user", help="who adds it (audit)"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Add a person (asks for a password) or a service account (prints its API key)."""
    from carbontwin.runtime.auth import AuthError

    auth = _authenticator(store_url)
    try:
        p = reg.serving_park(auth.store, park)
        if enterprise is not None:
            p.enterprise(enterprise)
        password = None
        if not service:
            password = typer.prompt(text("users.password", lang), hide_input=True)
        auth.add_user(
            username,
            role,
            actor=user,
            password=password,
            kind="service" if service else "person",
            park_id=p.id,
            enterprise=enterprise,
            display_name=name,
        )
        console.print(text("users.added", lang, username=username, role=role))
        if service:
            key = auth.issue_api_key(username, actor=user, label="created with the user")
            console.print(text("users.key", lang, api_key=key))
    except KeyError:
        _fail(KeyError(f"enterprise {enterprise!r} is not in the park"))
    except (AuthError, ValidationError, ValueError) as exc:
        _fail(exc)
    finally:
        auth.store.close()


@users_app.command("list")
def users_list(
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """List users and service accounts."""
    store = reg.open_store(store_url)
    table = Table()
    for col in ("username", "role", "enterprise", "kind", "status", "last_login"):
        table.add_column(text(f"users.{col}", lang))
    for u in store.users():
        status = "disabled" if u["disabled"] else "locked" if u["locked_until"] else "active"
        table.add_row(
            u["username"],
            u["role"],
            u["enterprise"] or "",
            u["kind"],
            text(f"users.{status}", lang),
            f"{u['last_login_at']:%Y-%m-%d %H:%M}" if u["last_login_at"] else "",
        )
    store.close()
    console.print(table)


@users_app.command("disable")
def users_disable(
    username: str = typer.Argument(...),
    enable: bool = typer.Option(False, "--enable", help="enable the user again"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    user: str = typer.Option("cli", "--user", help="who does it (audit)"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Disable a user (its sessions end) or, with --enable, enable it again."""
    from carbontwin.store import NotFoundError

    auth = _authenticator(store_url)
    try:
        auth.set_disabled(username, not enable, actor=user)
    except NotFoundError as exc:
        _fail(exc)
    finally:
        auth.store.close()
    console.print(
        text("users.enabled" if enable else "users.disabled_done", lang, username=username)
    )


@users_app.command("key")
def users_key(
    username: str = typer.Argument(..., help="a service account"),
    label: str = typer.Option("", "--label"),
    days: int | None = typer.Option(None, "--days", help="valid this many days"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    user: str = typer.Option("cli", "--user", help="who issues it (audit)"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Issue a new API key to a service account (shown once)."""
    from carbontwin.store import NotFoundError

    auth = _authenticator(store_url)
    try:
        key = auth.issue_api_key(username, actor=user, label=label, days=days)
    except (NotFoundError, ValidationError) as exc:
        _fail(exc)
    finally:
        auth.store.close()
    console.print(text("users.key", lang, api_key=key))


@app.command(help=text("verify.help"))
def verify(
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Recompute the integrity chain; exit status 1 and the first broken batch if any."""
    import json

    from carbontwin.runtime.integrity import verify as verify_chain

    store = reg.open_store(store_url)
    try:
        report = verify_chain(store)
    finally:
        store.close()
    if as_json:
        console.print_json(json.dumps(report.to_dict(), default=str))
    else:
        table = Table(title=text("verify.title", lang))
        for col in ("kind", "batches", "rows", "unchained", "state"):
            table.add_column(text(f"verify.{col}", lang))
        for kind, r in report.kinds.items():
            state = text("verify.intact", lang) if r.broken is None else str(r.broken)
            table.add_row(kind, str(r.batches), str(r.rows), str(r.unchained), escape(state))
        audit = (
            text("verify.intact", lang)
            if report.audit_broken is None
            else text("verify.audit_broken", lang, id=report.audit_broken)
        )
        table.add_row("audit", "", str(report.audit_records), "", audit)
        console.print(table)
        console.print(text("verify.head", lang, id=report.head_id, hash=report.head_hash))
    if not report.ok:
        for line in report.problems():
            err.print(f"[bold red]{escape(line)}[/]")
        raise typer.Exit(1)


# Control strategies ---------------------------------------------------------------------
def _actor(actor: str | None) -> str:
    import getpass

    return actor or f"cli:{getpass.getuser()}"


def _with_store(store_url: str | None, fn: object) -> object:
    store = reg.open_store(store_url)
    try:
        return fn(store)  # type: ignore[operator]
    finally:
        store.close()


def _show_strategy(s: dict, lang: str, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(s, ensure_ascii=False, default=str) + "\n")
        return
    console.print(
        text(
            "strategy.head",
            lang,
            id=s["id"],
            title=escape(s["title"]),
            status=s["status"],
            mode=s["mode"],
        )
    )
    exp = s.get("expected") or {}
    if exp.get("plan"):
        rows = pd.DataFrame(
            {k: exp[k] for k in ("plan", "baseline", "saving") if k in exp}
        ).reindex(["cost_cny", "import_kwh", "emissions_tco2e", "peak_kw"])
        _print_frame(rows, text("strategy.figures", lang), "")
    for line in (s.get("reasons") or {}).get(lang if lang in ("en", "zh") else "en", []):
        console.print(f"• {escape(line)}")
    if s.get("measured"):
        m = s["measured"]
        console.print(
            text(
                "strategy.measured",
                lang,
                kwh=f"{m['import_kwh']:,.0f}",
                peak=f"{m['peak_kw']:,.0f}",
                t=f"{m['emissions_tco2e']:,.2f}",
            )
        )


@strategy_app.command("propose", help=text("strategy.propose.help"))
def strategy_propose(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    day: str = typer.Option(..., "--day", "-d", help="the local day planned, YYYY-MM-DD"),
    mode: str = typer.Option("dispatch", "--mode", help="dispatch (setpoints) or advice"),
    actor: str | None = typer.Option(None, "--as", help="who proposes (default: you)"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Propose the day-ahead schedule of the park's batteries."""
    from carbontwin.runtime import strategies as st

    try:
        p = uc.resolve_park(park)
        with console.status(text("strategy.solving", lang, day=day)):
            s = _with_store(
                store_url,
                lambda store: st.propose_day_ahead(store, p, day, actor=_actor(actor), mode=mode),
            )
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    _show_strategy(s, lang, fmt)


@strategy_app.command("list", help=text("strategy.list.help"))
def strategy_list(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    status: list[str] = typer.Option([], "--status", help="only these statuses; repeatable"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """List the park's strategies, newest first."""
    from carbontwin.runtime.strategies import strategy_rows

    try:
        p = uc.resolve_park(park)
        rows = _with_store(
            store_url, lambda store: strategy_rows(store.strategies(p.id, status=status or None))
        )
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    frame = pd.DataFrame(rows)
    if frame.empty:
        console.print(text("strategy.none", lang))
        return
    frame["start"] = (
        pd.to_datetime(frame["start"]).dt.tz_convert(p.timezone).dt.strftime("%Y-%m-%d")
    )
    _print_frame(frame.set_index("id"), text("strategy.list.title", lang), "id")


@strategy_app.command("show", help=text("strategy.show.help"))
def strategy_show(
    strategy_id: int = typer.Argument(..., help="the strategy"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Show a strategy: its figures against the baseline and its reasons."""
    try:
        s = _with_store(store_url, lambda store: store.strategy(strategy_id))
    except (ValidationError, ValueError, KeyError, OSError, LookupError) as exc:
        _fail(exc)
        return
    _show_strategy(s, lang, fmt)


def _move(
    action: str,
    strategy_id: int,
    park: str,
    comment: str,
    actor: str | None,
    store_url: str | None,
    lang: str,
) -> None:
    from carbontwin.core.errors import ConsistencyError
    from carbontwin.runtime import strategies as st
    from carbontwin.store import NotFoundError

    def run(store: object) -> dict:
        p = uc.resolve_park(park)
        who = _actor(actor)
        if action in ("accept", "reject"):
            return st.decide(
                store, strategy_id, accept=action == "accept", actor=who, comment=comment
            )
        if action == "dispatch":
            return st.dispatch(store, p, strategy_id, actor=who)
        if action == "advise":
            return st.advise(store, strategy_id, actor=who)
        return st.verify(store, p, strategy_id, actor=who)

    try:
        s = _with_store(store_url, run)
    except (ValidationError, ConsistencyError, NotFoundError, ValueError, OSError) as exc:
        _fail(exc)
        return
    _show_strategy(s, lang, "table")


@strategy_app.command("accept", help=text("strategy.accept.help"))
def strategy_accept(
    strategy_id: int = typer.Argument(...),
    park: str = typer.Option("demo", "--park"),
    comment: str = typer.Option("", "--comment", "-c"),
    actor: str | None = typer.Option(None, "--as"),
    store_url: str | None = typer.Option(None, "--store"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Accept a proposed strategy."""
    _move("accept", strategy_id, park, comment, actor, store_url, lang)


@strategy_app.command("reject", help=text("strategy.reject.help"))
def strategy_reject(
    strategy_id: int = typer.Argument(...),
    comment: str = typer.Option(..., "--comment", "-c", help="why it is not wanted"),
    park: str = typer.Option("demo", "--park"),
    actor: str | None = typer.Option(None, "--as"),
    store_url: str | None = typer.Option(None, "--store"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Reject a proposed strategy, with the reason."""
    _move("reject", strategy_id, park, comment, actor, store_url, lang)


@strategy_app.command("dispatch", help=text("strategy.dispatch.help"))
def strategy_dispatch(
    strategy_id: int = typer.Argument(...),
    park: str = typer.Option("demo", "--park"),
    actor: str | None = typer.Option(None, "--as"),
    store_url: str | None = typer.Option(None, "--store"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Start an accepted strategy: its setpoints go out quarter-hour by quarter-hour."""
    _move("dispatch", strategy_id, park, "", actor, store_url, lang)


@strategy_app.command("advise", help=text("strategy.advise.help"))
def strategy_advise(
    strategy_id: int = typer.Argument(...),
    park: str = typer.Option("demo", "--park"),
    actor: str | None = typer.Option(None, "--as"),
    store_url: str | None = typer.Option(None, "--store"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Push an accepted advice strategy to the operators (no setpoints)."""
    _move("advise", strategy_id, park, "", actor, store_url, lang)


@strategy_app.command("verify", help=text("strategy.verify.help"))
def strategy_verify(
    strategy_id: int = typer.Argument(...),
    park: str = typer.Option("demo", "--park"),
    actor: str | None = typer.Option(None, "--as"),
    store_url: str | None = typer.Option(None, "--store"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Record a strategy's measured effect once its day is over."""
    _move("verify", strategy_id, park, "", actor, store_url, lang)


@strategy_app.command("run", help=text("strategy.run.help"))
def strategy_run(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    follow: bool = typer.Option(False, "--follow", help="keep going, every minute"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Issue the setpoints of the dispatched strategies for the quarter-hour in force."""
    import time

    from carbontwin.runtime.strategies import issue_due

    try:
        p = uc.resolve_park(park)
        while True:
            issued = _with_store(store_url, lambda store: issue_due(store, p))
            for r in issued:
                console.print(
                    text(
                        "strategy.issued",
                        lang,
                        point=r["point"],
                        value=f"{r['value']:g}",
                        unit=r["unit"],
                        reason=escape(r["reason"]),
                    )
                )
            if not follow:
                if not issued:
                    console.print(text("strategy.nothing_due", lang))
                return
            time.sleep(60)
    except (ValidationError, ValueError, OSError) as exc:
        _fail(exc)
    except KeyboardInterrupt:
        return


# Scenario studies -----------------------------------------------------------------------
def _run_study(
    park: str,
    scenarios: list[str],
    draws: int,
    seed: int,
    by_year: int,
    sensitivity: bool,
    dask: bool,
    store_url: str | None,
    lang: str,
) -> object:
    from carbontwin.runtime.scenarios import run_study

    p = uc.resolve_park(park)
    bar, task = _progress(text("scenario.running", lang, draws=f"{draws:,}"))

    def tick(step: str, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total, description=f"{step} …")

    with bar:
        return _with_store(
            store_url,
            lambda store: run_study(
                store,
                p,
                scenarios=scenarios or None,
                draws=draws,
                seed=seed,
                by_year=by_year,
                sensitivity=sensitivity,
                dask=True if dask else None,
                progress=tick,
            ),
        )


@scenario_app.command("run", help=text("scenario.run.help"))
def scenario_run(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    scenario: list[str] = typer.Option([], "--scenario", "-s", help="repeatable; default all"),
    draws: int = typer.Option(10_000, "--draws", "-n", help="Monte Carlo draws per scenario"),
    seed: int = typer.Option(0, "--seed"),
    by_year: int = typer.Option(2030, "--by", help="year of 'probability of peaking by'"),
    sensitivity: bool = typer.Option(True, "--sensitivity/--no-sensitivity"),
    dask: bool = typer.Option(False, "--dask", help="draw on a local Dask cluster"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Project the park's scenarios, draw their uncertainty and say what moves the peak."""
    try:
        run = _run_study(park, scenario, draws, seed, by_year, sensitivity, dask, store_url, lang)
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    if fmt == "json":
        sys.stdout.write(json.dumps(run.to_dict(), ensure_ascii=False, default=str) + "\n")
        return
    for note in run.notes:
        console.print(f"[dim]{escape(note)}[/]")
    _print_frame(run.summary, text("scenario.title", lang, by=by_year), "")
    for s, words in run.suggestions.items():
        console.print(f"[bold]{escape(s)}[/]")
        for line in words.get(lang if lang in ("en", "zh") else "en", []):
            console.print(f"• {escape(line)}")


@scenario_app.command("compare", help=text("scenario.compare.help"))
def scenario_compare(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    years: list[int] = typer.Option([2030, 2035, 2040, 2050, 2060], "--year", "-y"),
    draws: int = typer.Option(2000, "--draws", "-n"),
    seed: int = typer.Option(0, "--seed"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    fmt: str = typer.Option("table", "--format", "-f", help="table or csv"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Compare the scenarios side by side: peak and net emissions in chosen years."""
    try:
        run = _run_study(park, [], draws, seed, 2030, False, False, store_url, lang)
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    net = run.projection.net_emissions_tco2e.to_pandas()
    known = [y for y in years if y in net.columns]
    table = net[known].rename(columns=lambda y: f"{y} [t CO2e]")
    table.insert(0, "peak_tco2e", run.summary["peak_tco2e"])
    table.insert(0, "peak_year", run.summary["peak_year"].astype(int).astype(str))
    if "p_peak_by" in run.summary:
        table["p_peak_by_2030"] = run.summary["p_peak_by"]
    if fmt == "csv":
        sys.stdout.write(table.to_csv(index_label="scenario"))
        return
    _print_frame(table, text("scenario.compare.title", lang), "scenario")


@scenario_app.command("track", help=text("scenario.track.help"))
def scenario_track(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    scenario: str = typer.Option("policy", "--scenario", "-s"),
    store_url: str | None = typer.Option(None, "--store", help="database URL"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Compare the accounted years with a scenario's plan; project again from the latest."""
    from carbontwin.runtime.scenarios import track_plan

    try:
        p = uc.resolve_park(park)
        out = _with_store(store_url, lambda store: track_plan(store, p, scenario))
    except (ValidationError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
        return
    for note in out["notes"]:
        console.print(f"[dim]{escape(note)}[/]")
    _print_frame(out["deviation"], text("scenario.track.title", lang, scenario=scenario), "year")
    again = out["reprojection"].sel(scenario=scenario)
    console.print(
        text(
            "scenario.track.heading",
            lang,
            year=int(again.peak_year),
            peak=f"{float(again.peak_tco2e):,.0f}",
        )
    )


# Reduction decisions --------------------------------------------------------------------
@reduce_app.command("macc", help=text("reduce.macc.help"))
def reduce_macc(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    discount_rate: float = typer.Option(0.06, "--discount-rate"),
    fmt: str = typer.Option("table", "--format", "-f", help="table or csv"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Print the park's marginal abatement cost curve, cheapest tonne first."""
    from carbontwin.runtime.reduction import macc

    try:
        rows = macc(uc.resolve_park(park), discount_rate=discount_rate)
    except (ValidationError, ValueError) as exc:
        _fail(exc)
        return
    frame = pd.DataFrame(rows).set_index("id")
    cols = [
        "name_zh" if lang == "zh" else "name",
        "abatement_tco2e_per_yr",
        "cost_cny_per_tco2e",
        "capex_cny",
        "cumulative_abatement_tco2e_per_yr",
    ]
    if fmt == "csv":
        sys.stdout.write(frame.to_csv())
        return
    _print_frame(frame[cols], text("reduce.macc.title", lang), "id")


@reduce_app.command("portfolio", help=text("reduce.portfolio.help"))
def reduce_portfolio(
    park: str = typer.Argument("demo", help="park YAML file, or 'demo'"),
    target: float | None = typer.Option(None, "--target", help="t CO2e a year"),
    budget: float | None = typer.Option(None, "--budget", help="investment, CNY"),
    year: int | None = typer.Option(None, "--year", help="measures available by"),
    discount_rate: float = typer.Option(0.06, "--discount-rate"),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json"),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Choose the least-cost measures for a target within a budget, and say why."""
    from carbontwin.core.errors import SolverError
    from carbontwin.runtime.reduction import portfolio

    try:
        r = portfolio(
            uc.resolve_park(park),
            target_tco2e_per_yr=target,
            budget_cny=budget,
            discount_rate=discount_rate,
            year=year,
        )
    except (ValidationError, SolverError, ValueError) as exc:
        _fail(exc)
        return
    if fmt == "json":
        sys.stdout.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
        return
    chosen = pd.DataFrame(r["chosen"]).set_index("id")
    name = "name_zh" if lang == "zh" else "name"
    _print_frame(
        chosen[[name, "units", "abatement_tco2e_per_yr", "capex_cny"]],
        text("reduce.portfolio.title", lang),
        "id",
    )
    for line in r["suggestions"]["zh" if lang == "zh" else "en"]:
        console.print(f"• {escape(line)}")


if __name__ == "__main__":  # pragma: no cover
    app()
