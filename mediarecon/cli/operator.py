"""The operator's commands: run the nightly now, see how runs went, serve the schedule."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Literal, Optional

import typer

from mediarecon.cli.common import ExitCode, HomeOption, app, fail, load_settings, render_table


def use_home_prefect(root: Path) -> None:
    """Without PREFECT_API_URL, Prefect's local server keeps its database under <home>/prefect/, the one
    `mediarecon serve` uses too. Set before Prefect is imported: it reads its settings then."""
    if not os.environ.get("PREFECT_API_URL"):
        (root / "prefect").mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(root / "prefect")


@app.command()
def init(home: Optional[Path] = HomeOption):
    """Create a mediarecon home: its folders (inbox/<source>/ for each source, landing/, validated/…) and
    the marker that makes every other command accept it."""
    from mediarecon.ingest.sources import INBOX_FOLDERS

    settings = load_settings(home, must_be_home=False)
    root = settings.home.root
    if settings.home.is_home():
        typer.echo(f"{root} is already a mediarecon home")
        return
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        fail(f"{root} is not empty and not a mediarecon home: a home is created in a new or empty folder",
             ExitCode.USAGE)
    settings.home.ensure(INBOX_FOLDERS)
    typer.echo(f"mediarecon home created in {root}; senders drop their files in {root / 'inbox'}/<source>/"
               " (docs/input_formats.md), then: mediarecon run --home " + str(root))


def run_nightly(home: Optional[Path], quiet: bool = False) -> dict:
    from mediarecon.alerts.rules import AlertRulesError, rules_of

    settings = load_settings(home)
    try:  # before the ~20 s Prefect start: a broken rules file is named at once
        rules_of(settings)
    except AlertRulesError as e:
        fail(str(e), ExitCode.USAGE)
    use_home_prefect(settings.home.root)
    if os.environ.get("PREFECT_API_URL"):
        return _nightly(settings.home.root)
    from mediarecon.flows.local_server import ServerDidNotStart, temporary_server

    if not quiet:
        typer.echo(f"nightly reconciliation on {settings.home.root} (starting a local Prefect server, ~20 s) ...")
    try:
        with temporary_server(settings.home.root / "prefect", log=lambda m: typer.secho(m, fg="yellow", err=True)) as url:
            os.environ["PREFECT_API_URL"] = url  # before Prefect is imported: it reads its settings then
            return _nightly(settings.home.root)
    except ServerDidNotStart as e:
        fail(str(e), ExitCode.FAILED)


def _nightly(root: Path) -> dict:
    from mediarecon.flows.nightly_reconciliation import nightly_reconciliation
    from mediarecon.state.runs import RunInProgress

    try:
        return nightly_reconciliation(home=str(root))
    except RunInProgress as e:
        fail(str(e), ExitCode.LOCKED)
    except Exception as e:
        typer.secho(f"run failed, the published warehouse is unchanged: {e}", fg="red", err=True)
        raise typer.Exit(ExitCode.FAILED)


def print_summary(summary: dict, home: Path) -> None:
    typer.echo(f"run {summary['run_id']}: {summary['files_processed']} new file(s), "
               f"{summary['files_rejected']} rejected, {summary['rows_valid']} valid row(s), "
               f"{summary['rows_quarantined']} quarantined")
    if summary.get("chorus_pro"):
        c = summary["chorus_pro"]
        typer.echo(f"chorus pro: {c['invoices']} invoice(s) in the window, {c['new_answers']} new answer(s),"
                   f" watermark {c['watermark']}")
    typer.echo("findings:")
    for t, v in summary["findings"].items():
        amount = f"{v['amount_at_stake_eur']:>14} EUR at stake" if v["amount_at_stake_eur"] else "  (amount computed later)"
        typer.echo(f"  {t:<28} {v['count']:>5}   {amount}")
    a = summary.get("alerts") or {}
    if "error" in a:
        typer.secho(f"alerts: the alert step failed: {a['error']}", fg="yellow")
    elif a:
        typer.echo(f"alerts: {a['opened']} opened, {a['escalated']} escalated, {a['resolved']} resolved;"
                   f" {a['sent']} message(s) sent, {a['failed']} failed, {a['pending']} pending"
                   f" (mediarecon alerts list)")
    typer.echo(f"warehouse: {summary['warehouse']}")
    typer.echo(f"report: {summary['report']}")
    typer.echo(f"run record: {home / 'runs' / (summary['run_id'] + '.json')}")


@app.command()
def run(
    home: Optional[Path] = HomeOption,
    engine: Optional[Literal["duckdb", "spark"]] = typer.Option(
        None, help="The engine of the dbt build (default MEDIARECON_ENGINE, else duckdb; docs/scale_out.md)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors; no summary (the exit code"
                               " says how it went)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="dbt's own lines on the console too (they are"
                                 " always in runs/dbt/logs/dbt.log)."),
):
    """Run one nightly reconciliation now (Prefect flow, local): ingest, validate, dbt build, publish.
    Exit 0: published, complete; 4: published without a source that could not be reached (named); 1:
    nothing published; 3: another run holds the home; 2: a setting, the rules file or the home is wrong."""
    if quiet and verbose:
        fail("--quiet and --verbose contradict each other: give one", ExitCode.USAGE)
    if engine is not None:
        os.environ["MEDIARECON_ENGINE"] = engine  # the flow's tasks read their settings from the environment
    if quiet:  # Prefect's console handler only; its API (the UI's logs) still gets everything
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "WARNING"
    if verbose:
        from mediarecon.warehouse.build import DBT_CONSOLE

        os.environ[DBT_CONSOLE] = "true"
    summary = run_nightly(home, quiet=quiet)
    if not quiet:
        print_summary(summary, load_settings(home).home.root)
    if summary.get("sources_unavailable"):
        typer.secho("published, incomplete: " + "; ".join(f"{s} not reached ({r})" for s, r in
                                                          sorted(summary["sources_unavailable"].items())),
                    fg="yellow", err=True)
        raise typer.Exit(ExitCode.INCOMPLETE)


@app.command()
def status(
    home: Optional[Path] = HomeOption,
    format: Literal["table", "json"] = typer.Option("table", "--format", help="The output."),
    runs: int = typer.Option(5, help="How many recent runs to list."),
):
    """Last runs, files per source and their outcome, rejected files and quarantine counts."""
    from mediarecon.state.manifest import Manifest
    from mediarecon.state.runs import list_runs

    settings = load_settings(home)
    h = settings.home
    recent = list_runs(h, runs) if h.runs.exists() else []
    manifest = Manifest(h.manifest) if h.manifest.exists() else None
    by_source = [dict(r) for r in manifest.summary_by_source()] if manifest else []
    problems = [dict(r) for r in manifest.files() if r["status"] in ("rejected", "partial")] if manifest else []
    watermarks = manifest.watermarks() if manifest else []
    notes = [dict(n) for n in manifest.inbox_notes()] if manifest else []
    if format == "json":
        typer.echo(json.dumps({
            "home": str(h.root),
            "runs": [{k: v for k, v in r.items() if k != "markdown"} for r in recent],
            "files_by_source": by_source,
            "problem_files": [{k: p[k] for k in ("source", "original_name", "sha256", "status", "reason",
                                                 "rows_quarantined")} for p in problems],
            "watermarks": [dict(w) for w in watermarks],
            "inbox_not_landed": [{k: n[k] for k in ("source", "original_name", "status", "reason", "seen_at")}
                                 for n in notes],
        }, indent=1, ensure_ascii=False))
        return
    typer.echo(f"home: {h.root}")
    typer.echo(f"published warehouse: {h.published_db if h.published_db.exists() else '(none yet)'}")
    typer.echo("\nlast runs:")
    if not recent:
        typer.echo("  (no run yet)")
    for r in recent:
        line = f"  {r['run_id']}  {r['status']:<9}  started {r['started_at']}  finished {r['finished_at'] or '-'}"
        if r.get("message"):
            line += f"\n      {r['message']}"
        typer.echo(line)
    typer.echo("\nfiles per source:")
    typer.echo(render_table(["source", "status", "files", "rows_valid", "rows_quarantined"],
                      [[r["source"], r["status"], r["files"], r["rows_valid"], r["rows_quarantined"]]
                       for r in by_source]))
    for w in watermarks:
        typer.echo(f"\nwatermark {w['source']}: {w['value']} (moved {w['updated_at']} by run {w['run_id']})")
    if problems:
        typer.echo("\nrejected or partially quarantined files:")
        for p in problems:
            typer.echo(f"  [{p['status']}] {p['source']}/{p['original_name']}: {p['reason']}")
        typer.echo(f"  quarantined rows are in {h.quarantine}/<source>/<sha256>.parquet"
                   f" (e-invoice documents: {h.quarantine}/einvoices/<sha256>.parquet)")
    if notes:
        typer.echo("\ninbox files not landed (as of the last run):")
        for n in notes:
            typer.echo(f"  [{n['status']}] {n['source']}/{n['original_name']}: {n['reason']}")


@app.command()
def serve(
    home: Optional[Path] = HomeOption,
    port: int = typer.Option(4200, help="Port of the local Prefect server started when PREFECT_API_URL is unset."),
):
    """Run the schedule of prefect.yaml on this machine until Ctrl-C: the nightly reconciliation at 02:00
    Paris time (never two at once) and the 06:00 check. Uses PREFECT_API_URL, or starts a local Prefect
    server (127.0.0.1, database under <home>/prefect/)."""
    from mediarecon.alerts.rules import AlertRulesError, rules_of
    from mediarecon.flows.local_server import start_local_server
    from mediarecon.flows.schedule import runner_deployments
    from mediarecon.ingest.sources import INBOX_FOLDERS

    settings = load_settings(home)
    try:
        rules_of(settings)
    except AlertRulesError as e:
        fail(str(e), ExitCode.USAGE)
    settings.home.ensure(INBOX_FOLDERS)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # a service manager's stop is a Ctrl-C, from the first instant
    server = None
    try:
        if not os.environ.get("PREFECT_API_URL"):
            use_home_prefect(settings.home.root)  # this process and its flow runs share the server's folder
            server = start_local_server(settings.home.root, port, log=typer.echo)
        import asyncio

        from prefect.runner import Runner

        class StoppingRunner(Runner):
            def handle_sigterm(self, *args, **kwargs):
                # Prefect's own calls the async stop() from the signal handler and leaves it un-awaited
                # ("coroutine 'Runner.astop' was never awaited"): stop as on Ctrl-C instead
                raise KeyboardInterrupt

        runner = StoppingRunner(pause_on_shutdown=True)
        for d in runner_deployments(str(settings.home.root)):
            runner.add_deployment(d)
            when = ", ".join(f"{s.schedule.cron} {s.schedule.timezone}" for s in d.schedules)
            typer.echo(f"serving {d.name}: {when}; concurrency limit {d.concurrency_limit}")
        typer.echo(f"home: {settings.home.root}; Prefect UI: {os.environ['PREFECT_API_URL'].removesuffix('/api')}")
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        typer.echo("stopped: the schedules are paused until the next `mediarecon serve`")
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)


@app.command("spark-cluster")
def spark_cluster(
    port: int = typer.Option(7077, help="The master's port on 127.0.0.1."),
    cores: int = typer.Option(2, help="Cores of the one worker."),
    memory: str = typer.Option("1g", help="Memory of the one worker (JVM notation: 1g, 512m)."),
    work: Path = typer.Option(Path("./var/spark-cluster"), help="Folder of the JVMs' logs and scratch files."),
):
    """Start a Spark standalone master and one worker on loopback until Ctrl-C, for a multi-JVM build:
    MEDIARECON_SPARK_MASTER=spark://127.0.0.1:PORT mediarecon run --engine spark (docs/scale_out.md)."""
    import signal
    import time

    from mediarecon.warehouse.spark import LoopbackCluster

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C, and a SIGTERM (a service manager, `kill`), stop both JVMs; a shell's background job ignores
    # SIGINT unless it is set back
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        with LoopbackCluster(work.resolve(), port=port, cores=cores, memory=memory, log=typer.echo) as cluster:
            typer.echo(f"MEDIARECON_SPARK_MASTER={cluster.master_url}; Ctrl-C stops it")
            while True:
                time.sleep(1)
    except RuntimeError as e:
        fail(str(e), ExitCode.FAILED)
    except KeyboardInterrupt:
        typer.echo("Spark cluster stopped")
