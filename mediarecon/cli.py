"""`mediarecon`: the command line. Every command works on one home folder (MEDIARECON_HOME or --home)."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    help="Reconciles what the French State orders, is invoiced and receives when it buys advertising space.",
    no_args_is_help=True,
    add_completion=False,
)

HomeOption = typer.Option(None, "--home", help="Home folder holding all state (default: $MEDIARECON_HOME or ./var).",
                          show_default=False)


def _settings(home: Optional[Path]):
    from mediarecon.settings import Settings, SettingsError

    try:
        return Settings.from_env(home)
    except SettingsError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2)


@app.command()
def generate(
    seed: int = typer.Option(1, help="Random seed: same seed, scale and year give the same bytes."),
    scale: float = typer.Option(0.2, help="1.0 = one year of the State's media buying (~1 million ad-server rows)."),
    year: int = typer.Option(2025, help="Calendar year to simulate."),
    out: Path = typer.Option(..., help="Folder to write inbox/ and ground_truth/anomalies.csv into."),
):
    """Write a labelled synthetic State-year into OUT/inbox/ and its anomalies into OUT/ground_truth/."""
    with _demo_tools("generate"):
        from simulators.state_year import generate as run_generator

    typer.echo(f"generating seed {seed}, scale {scale}, year {year} into {out} ...")
    s = run_generator(out, seed=seed, scale=scale, year=year)
    typer.echo(f"  {s.campaigns} campaigns, {s.purchase_orders} purchase orders, {s.order_lines} order lines")
    typer.echo(f"  {s.ad_server_rows} ad-server rows, {s.regie_rows} régie report rows, {s.email_rows} e-mail rows")
    typer.echo(f"  {s.files} files in {out / 'inbox'}")
    typer.echo(f"  anomalies: {', '.join(f'{k} {v}' for k, v in sorted(s.anomalies.items()))}"
               f" -> {out / 'ground_truth' / 'anomalies.csv'}")


def use_home_prefect(root: Path) -> None:
    """Without PREFECT_API_URL, Prefect's local server keeps its database under <home>/prefect/, the one
    `mediarecon serve` uses too. Set before Prefect is imported: it reads its settings then."""
    if not os.environ.get("PREFECT_API_URL"):
        (root / "prefect").mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(root / "prefect")


def _run(home: Optional[Path]) -> dict:
    from mediarecon.alert_rules import AlertRulesError

    settings = _settings(home)
    try:  # before the ~20 s Prefect start: a broken rules file is named at once
        settings.alert_rules()
    except AlertRulesError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2)
    os.environ["MEDIARECON_HOME"] = str(settings.home.root)
    use_home_prefect(settings.home.root)
    from flows.nightly_reconciliation import nightly_reconciliation
    from mediarecon.runs import RunInProgress

    typer.echo(f"nightly reconciliation on {settings.home.root} (starting a local Prefect server, ~20 s) ...")
    try:
        return nightly_reconciliation(home=str(settings.home.root))
    except RunInProgress as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(3)
    except Exception as e:
        typer.secho(f"run failed, the published warehouse is unchanged: {e}", fg="red", err=True)
        raise typer.Exit(1)


def _print_summary(summary: dict, home: Path) -> None:
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
def run(home: Optional[Path] = HomeOption):
    """Run one nightly reconciliation now (Prefect flow, local): ingest, validate, dbt build, publish."""
    summary = _run(home)
    _print_summary(summary, _settings(home).home.root)


OUTPUT_FORMATS = ("table", "csv", "json", "xlsx")


def _reader_rows(settings, sql: str):
    """Run a reader's SQL on the published warehouse: (columns, rows), or exit with the error."""
    import duckdb

    from mediarecon.reader import ReaderError

    with _open_reader(settings) as reader:
        try:
            return reader.query(sql)
        except ReaderError as e:
            _fail(str(e), 1)
        except duckdb.Error as e:  # duckdb's own message names what is wrong and where
            _fail(str(e), 1)


@contextlib.contextmanager
def _demo_tools(command: str):
    """The synthetic data and the local S3 server need the `demo` extra (holidays, moto), which a
    production install leaves out."""
    try:
        yield
    except ModuleNotFoundError as e:
        if e.name not in ("holidays", "moto"):
            raise
        _fail(f"`mediarecon {command}` needs the demo tools ({e.name} is not installed):"
              " pip install 'mediarecon[demo]'", 2)


def _fail(message: str, code: int):
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


@dataclass
class _Output:
    """Where --out writes: the folder, held open from the check to the write, so that swapping a path
    component for a symlink while the query runs changes nothing."""

    shown: Path
    dir_fd: int
    name: str
    force: bool


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _check_output(settings, format: str, out: Optional[Path], force: bool) -> Optional[_Output]:
    """Refuse a bad --format, a missing --out, an --out inside the home folder, or one that exists
    (unless --force), before any query runs."""
    if format not in OUTPUT_FORMATS:
        _fail(f"--format must be one of {', '.join(OUTPUT_FORMATS)}", 2)
    if format == "xlsx" and out is None:
        _fail("--format xlsx needs --out FILE.xlsx", 2)
    if out is None:
        return None
    target = out.expanduser().absolute()
    root = settings.home.root.resolve()
    refuse = (f"--out {out} is inside the home folder {root} (warehouse, landing, manifest, inbox, validated,"
              " quarantine, runs…): write the result outside it")
    if _inside(target, root) or not target.name or target.name in (".", ".."):
        _fail(refuse if _inside(target, root) else f"--out {out} is a folder: give a file name", 2)
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        _fail(f"--out {out}: the folder {target.parent} does not exist", 2)
    # where the open folder really is, whatever links led to it
    if _inside(Path(os.readlink(f"/proc/self/fd/{dir_fd}")), root):
        os.close(dir_fd)
        _fail(refuse, 2)
    try:
        st = os.stat(target.name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return _Output(out, dir_fd, target.name, force)
    if stat.S_ISLNK(st.st_mode) and _inside(Path(os.path.realpath(f"/proc/self/fd/{dir_fd}/{target.name}")), root):
        os.close(dir_fd)
        _fail(refuse, 2)
    if stat.S_ISDIR(st.st_mode):
        os.close(dir_fd)
        _fail(f"--out {out} is a folder: give a file name", 2)
    if not force:
        os.close(dir_fd)
        _fail(f"--out {out} exists: add --force to overwrite it", 2)
    return _Output(out, dir_fd, target.name, force)


def _write_output(target: _Output, data: bytes) -> None:
    """A new file beside the target in the folder held open, then moved in: --force replaces the entry
    (never writes through it); without --force an entry that appeared meanwhile is not overwritten."""
    import secrets

    part = f".{target.name}.{secrets.token_hex(4)}.part"
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666, dir_fd=target.dir_fd)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if target.force:
            os.replace(part, target.name, src_dir_fd=target.dir_fd, dst_dir_fd=target.dir_fd)
        else:
            try:
                os.link(part, target.name, src_dir_fd=target.dir_fd, dst_dir_fd=target.dir_fd)
            except FileExistsError:
                _fail(f"--out {target.shown} exists: add --force to overwrite it", 2)
    finally:
        try:
            os.unlink(part, dir_fd=target.dir_fd)
        except FileNotFoundError:
            pass
        os.close(target.dir_fd)


def _emit(columns, rows, format: str, out: Optional[_Output], title: str) -> None:
    """Print (table, csv, json) or write (--out, checked by _check_output; xlsx needs it) a result."""
    if format == "xlsx":
        from mediarecon.reports import Column, write_xlsx

        kinds = []
        for i, c in enumerate(columns):
            sample = next((r[i] for r in rows if r[i] is not None), None)
            kinds.append("eur" if c.endswith("_eur") else "date" if isinstance(sample, dt.date)
                         else "int" if isinstance(sample, int) and not isinstance(sample, bool) else "text")
        book = io.BytesIO()
        write_xlsx(book, title, [Column(c, c, k) for c, k in zip(columns, kinds)], rows, totals=False)
        _write_output(out, book.getvalue())
        typer.echo(f"{len(rows)} row(s) written to {out.shown}")
        return
    if format == "json":
        text = json.dumps([dict(zip(columns, r)) for r in rows], default=_json_default, ensure_ascii=False, indent=1)
    elif format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
        text = buf.getvalue().rstrip("\n")
    else:
        text = _table(columns, rows)
    if out is None:
        typer.echo(text)
    else:
        _write_output(out, (text + "\n").encode("utf-8"))
        typer.echo(f"{len(rows)} row(s) written to {out.shown}")


ForceOption = typer.Option(False, "--force", help="Overwrite the --out file if it exists.")


@app.command()
def query(
    sql: str = typer.Argument(..., help="SQL to run, read-only, on the published warehouse (queries only)."),
    home: Optional[Path] = HomeOption,
    format: str = typer.Option("table", "--format", help="table, csv, json or xlsx."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file (outside the home folder) instead of"
                                       " the screen (xlsx: required)."),
    force: bool = ForceOption,
):
    """Query the published warehouse read-only (works while a run is building the next one). One plain query
    (SELECT, WITH, VALUES, FROM) on the published marts; nothing else can be read or written."""
    settings = _settings(home)
    target = _check_output(settings, format, out, force)
    columns, rows = _reader_rows(settings, sql)
    _emit(columns, rows, format, target, "mediarecon — requête")


AUDIT_QUERIES_DIR = Path(__file__).with_name("audit_queries")


def _audit_queries() -> dict[str, tuple[str, str]]:
    """{name: (one-line description, SQL)} of the saved audit queries shipped with the product."""
    out = {}
    for path in sorted(AUDIT_QUERIES_DIR.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        out[path.stem] = (text.splitlines()[0].lstrip("- ").strip(), text)
    return out


@app.command()
def audit(
    name: Optional[str] = typer.Argument(None, help="A saved audit query; none: list them."),
    home: Optional[Path] = HomeOption,
    format: str = typer.Option("table", "--format", help="table, csv, json or xlsx."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file (outside the home folder) instead of"
                                       " the screen (xlsx: required)."),
    force: bool = ForceOption,
):
    """The cost-control auditor's saved queries, read-only on the published warehouse."""
    queries = _audit_queries()
    if name is None:
        for n, (description, _) in queries.items():
            typer.echo(f"{n:<22} {description}")
        return
    if name not in queries:
        typer.secho(f"error: no audit query {name!r} (one of: {', '.join(queries)})", fg="red", err=True)
        raise typer.Exit(2)
    description, sql = queries[name]
    settings = _settings(home)
    target = _check_output(settings, format, out, force)
    columns, rows = _reader_rows(settings, sql)
    _emit(columns, rows, format, target, f"mediarecon — {description}")


def _open_reader(settings):
    """The published warehouse through the locked-down reader; a clear error when there is none yet."""
    from mediarecon.reader import open_reader

    try:
        return open_reader(settings.home, settings.reader)
    except FileNotFoundError as e:
        _fail(str(e), 1)


def _json_default(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)  # Decimal stays exact as a string


def _table(columns, rows) -> str:
    cells = [[("" if v is None else str(v)) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()
    out = [line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


@app.command()
def status(
    home: Optional[Path] = HomeOption,
    format: str = typer.Option("table", "--format", help="table or json."),
    runs: int = typer.Option(5, help="How many recent runs to list."),
):
    """Last runs, files per source and their outcome, rejected files and quarantine counts."""
    from mediarecon.manifest import Manifest
    from mediarecon.runs import list_runs

    settings = _settings(home)
    h = settings.home
    recent = list_runs(h, runs) if h.runs.exists() else []
    manifest = Manifest(h.manifest) if h.manifest.exists() else None
    by_source = [dict(r) for r in manifest.summary_by_source()] if manifest else []
    problems = [dict(r) for r in manifest.files() if r["status"] in ("rejected", "partial")] if manifest else []
    watermarks = manifest.watermarks() if manifest else []
    if format == "json":
        typer.echo(json.dumps({
            "home": str(h.root),
            "runs": [{k: v for k, v in r.items() if k != "markdown"} for r in recent],
            "files_by_source": by_source,
            "problem_files": [{k: p[k] for k in ("source", "original_name", "sha256", "status", "reason",
                                                 "rows_quarantined")} for p in problems],
            "watermarks": [dict(w) for w in watermarks],
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
    typer.echo(_table(["source", "status", "files", "rows_valid", "rows_quarantined"],
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


report_app = typer.Typer(help="Reports the agency owes, exported under exports/ (XLSX or French CSV).")
app.add_typer(report_app, name="report")


@report_app.command("monthly")
def report_monthly(
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    advertiser: Optional[str] = typer.Option(None, "--advertiser", help="An advertiser id (e.g. ADV-SIG); default: all."),
    format: str = typer.Option("xlsx", "--format", help="xlsx or csv (French: ';', decimal comma, UTF-8 with BOM)."),
    home: Optional[Path] = HomeOption,
):
    """The monthly execution statement (CCAP 11.2.5), global or for one advertiser, from the published
    warehouse (read-only)."""
    from mediarecon import reports

    if format not in ("xlsx", "csv"):
        typer.secho("error: --format must be xlsx or csv", fg="red", err=True)
        raise typer.Exit(2)
    from mediarecon.reader import ReaderError

    settings = _settings(home)
    with _open_reader(settings) as reader:
        try:
            title, rows = reports.monthly_statement(reader, month, advertiser)
        except reports.ReportError as e:
            _fail(str(e), 2)
        except ReaderError as e:
            _fail(str(e), 1)
    settings.home.exports.mkdir(parents=True, exist_ok=True)
    target = settings.home.exports / f"etat_execution_{month}_{advertiser or 'global'}.{format}"
    if format == "xlsx":
        reports.write_xlsx(target, title, reports.MONTHLY_STATEMENT, rows)
    else:
        reports.write_french_csv(target, reports.MONTHLY_STATEMENT, rows)
    typer.echo(f"{title}: {len(rows)} order(s) -> {target}")


@app.command()
def replay(
    run_id: Optional[str] = typer.Argument(None, help="The run to rebuild (mediarecon status --format json)."),
    out: Path = typer.Option(..., "--out", help="A new, empty folder for the rebuilt warehouse."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Instead of a run: what was known at this date"
                                        " (YYYY-MM-DD, end of day UTC) or ISO timestamp."),
    home: Optional[Path] = HomeOption,
):
    """Rebuild the warehouse a past run published (same rows, same values), or the one the data received
    up to a date would give; the home is only read."""
    from mediarecon.replay import ReplayError, replay as run_replay
    from mediarecon.warehouse import BuildError

    settings = _settings(home)
    try:
        current = settings.dbt_vars() if as_of else None
        result = run_replay(settings.home, out.resolve(), run_id=run_id, as_of=as_of, current_vars=current,
                            log=typer.echo)
    except ReplayError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2)
    except BuildError as e:
        typer.secho(f"replay failed: {e}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"replayed {run_id or 'as of ' + as_of}: {result['files']} landed file(s),"
               f" as-of date {result['dbt_vars']['as_of_date']}")
    typer.echo(f"warehouse: {result['warehouse']}  (open it with duckdb, read-only)")


@app.command("export-all")
def export_all(
    out: Path = typer.Option(..., "--out", help="A new folder outside the home (it must outlive a purge)."),
    home: Optional[Path] = HomeOption,
):
    """End of contract: every landed file, validated Parquet, marts as Parquet and CSV, the manifest,
    run records and alerts, a README and SHA256SUMS, for the next agency."""
    from mediarecon.handover import HandoverError, export_all as run_export

    try:
        record = run_export(_settings(home), out.resolve(), log=typer.echo)
    except (HandoverError, FileNotFoundError) as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2)
    typer.echo(f"exported {record['files']} file(s) ({record['landed_files']} landed, {len(record['marts'])} marts)"
               f" to {record['out']}; check with: cd {record['out']} && sha256sum -c SHA256SUMS")


@app.command()
def purge(
    confirm: bool = typer.Option(False, "--confirm", help="Yes, destroy every file of the home folder."),
    home: Optional[Path] = HomeOption,
):
    """Destroy the home folder's data after the hand-over (CCAP 13.9) and write a destruction certificate.
    Refused without --confirm, or unless an intact export was made after the last run."""
    from mediarecon.handover import HandoverError, purge as run_purge

    try:
        path = run_purge(_settings(home), confirm, log=typer.echo)
    except HandoverError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2)
    typer.echo(f"destruction certificate: {path}")


@app.command()
def serve(
    home: Optional[Path] = HomeOption,
    port: int = typer.Option(4200, help="Port of the local Prefect server started when PREFECT_API_URL is unset."),
):
    """Run the schedule of prefect.yaml on this machine until Ctrl-C: the nightly reconciliation at 02:00
    Paris time (never two at once) and the 06:00 check. Uses PREFECT_API_URL, or starts a local Prefect
    server (127.0.0.1, database under <home>/prefect/)."""
    from mediarecon.alert_rules import AlertRulesError
    from mediarecon.schedule import runner_deployments, start_local_server

    settings = _settings(home)
    try:
        settings.alert_rules()
    except AlertRulesError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2)
    settings.home.ensure()
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        use_home_prefect(settings.home.root)  # this process and its flow runs share the server's folder
        server = start_local_server(settings.home.root, port, log=typer.echo)
    try:
        from prefect import serve as prefect_serve

        deployments = runner_deployments(str(settings.home.root))
        for d in deployments:
            when = ", ".join(f"{s.schedule.cron} {s.schedule.timezone}" for s in d.schedules)
            typer.echo(f"serving {d.name}: {when}; concurrency limit {d.concurrency_limit}")
        typer.echo(f"home: {settings.home.root}; Prefect UI: {os.environ['PREFECT_API_URL'].removesuffix('/api')}")
        prefect_serve(*deployments)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)


@app.command()
def docs(
    home: Optional[Path] = HomeOption,
    port: int = typer.Option(8080, help="Port on 127.0.0.1 (0: any free port)."),
):
    """Serve the data dictionary (dbt docs of the last run, every mart column in English and French) on
    127.0.0.1 until Ctrl-C; also exports/docs/data_dictionary.csv."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    folder = _settings(home).home.exports / "docs"
    if not (folder / "index.html").exists():
        typer.secho(f"error: no data dictionary in {folder}: a nightly run writes it", fg="red", err=True)
        raise typer.Exit(2)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=str(folder)))
    typer.echo(f"data dictionary on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", nl=True)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


alerts_app = typer.Typer(help="The alerts for the people on call: list, show, acknowledge (store: <home>/alerts/).")
app.add_typer(alerts_app, name="alerts")


def _alert_store(home: Optional[Path]):
    from mediarecon import alerts

    settings = _settings(home)
    path = settings.home.root / "alerts" / "alerts.sqlite"
    if not path.exists():
        typer.secho(f"error: no alert store at {path}: run `mediarecon run --home {settings.home.root}` first",
                    fg="red", err=True)
        raise typer.Exit(2)
    return alerts.store_for(settings.home)


def _alert_or_exit(store, alert_id: int):
    row = store.alert(alert_id)
    if row is None:
        typer.secho(f"error: no alert n° {alert_id} (see `mediarecon alerts list --all`)", fg="red", err=True)
        raise typer.Exit(2)
    return row


@alerts_app.command("list")
def alerts_list(
    home: Optional[Path] = HomeOption,
    all_: bool = typer.Option(False, "--all", help="Also resolved alerts (default: open and acknowledged)."),
    rule: Optional[str] = typer.Option(None, "--rule", help="Only this rule, e.g. delivery_drop."),
    format: str = typer.Option("table", "--format", help="table or json."),
):
    """Alerts, newest last: id, rule, entity, period, status, level, and what is still to be sent."""
    store = _alert_store(home)
    rows = [r for r in store.alerts(rule=rule) if all_ or r["status"] != "resolved"]
    pending = {}
    for n in store.notifications(status="pending"):
        pending[n["alert_id"]] = pending.get(n["alert_id"], 0) + 1
    cols = ["alert_id", "alert_rule", "entity_key", "advertiser_id", "first_date", "last_date", "status",
            "alert_level", "first_seen_at"]
    if format == "json":
        typer.echo(json.dumps([{**{c: r[c] for c in cols}, "pending_notifications": pending.get(r["alert_id"], 0)}
                               for r in rows], ensure_ascii=False, indent=1))
        return
    typer.echo(_table(cols + ["pending"], [[r[c] for c in cols] + [pending.get(r["alert_id"], 0)] for r in rows]))


@alerts_app.command("show")
def alerts_show(alert_id: int = typer.Argument(..., help="The alert number (alerts list)."),
                home: Optional[Path] = HomeOption):
    """One alert as its message reads, with every notification and its delivery state."""
    from mediarecon import alerts

    store = _alert_store(home)
    row = _alert_or_exit(store, alert_id)
    chart = store.path.parent / "charts" / f"alert-{alert_id}.png"
    subject, body = alerts.render(row, "opened", alerts._evidence_names(_settings(home).home.manifest),
                                  chart if chart.exists() else None)
    typer.echo(subject)
    typer.echo(body)
    if row["acknowledged_at"]:
        typer.echo(f"Pris en charge le {row['acknowledged_at']} par {row['acknowledged_by']}")
    typer.echo("notifications:")
    for n in store.notifications(alert_id=alert_id):
        extra = json.loads(n["extra_recipients"])
        typer.echo(f"  {n['created_at']}  {n['event']:<9} -> {n['channel']:<12} {n['status']:<7}"
                   f" attempts {n['attempts']}" + (f"  +{', '.join(extra)}" if extra else "")
                   + (f"  last error: {n['last_error']}" if n["status"] == "pending" and n["last_error"] else ""))


@alerts_app.command("ack")
def alerts_ack(alert_id: int = typer.Argument(..., help="The alert number (alerts list)."),
               by: str = typer.Option(os.environ.get("USER", "unknown"), "--by", help="Who takes it in charge."),
               home: Optional[Path] = HomeOption):
    """Take an alert in charge: it stays listed until it clears, and a rise or the resolution is still sent."""
    from mediarecon import alerts

    store = _alert_store(home)
    row = _alert_or_exit(store, alert_id)
    if row["status"] == "resolved":
        typer.echo(f"alert n° {alert_id} is already resolved ({row['resolved_at']}): nothing to acknowledge")
        return
    row = store.acknowledge(alert_id, by, alerts.utcnow())
    typer.echo(f"alert n° {alert_id} acknowledged by {row['acknowledged_by']} at {row['acknowledged_at']}")


@alerts_app.command("check-rules")
def alerts_check_rules(home: Optional[Path] = HomeOption):
    """Check the alert rules file and the channels of MEDIARECON_ALERT_URLS, without running anything."""
    from mediarecon.alert_rules import AlertRulesError

    settings = _settings(home)
    try:
        rules = settings.alert_rules()
        channels = settings.alert_channels
    except AlertRulesError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2)
    typer.echo(f"rules: {rules.path} (valid)")
    typer.echo(f"channels: {', '.join(channels) if channels else 'none (MEDIARECON_ALERT_URLS is empty: alerts are kept, not sent)'}")


@app.command("parse-invoice")
def parse_invoice(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="UBL, CII XML or Factur-X PDF."),
    format: str = typer.Option("text", "--format", help="text or json (amounts as exact strings)."),
):
    """Print one e-invoice as parsed (header, totals, lines, allowances and charges) and its EN 16931 totals
    check, so that a person can verify a document."""
    from connectors.einvoice import EInvoiceError, check_totals, parse_file

    try:
        inv = parse_file(file)
    except EInvoiceError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(1)
    if format == "json":
        typer.echo(json.dumps(inv.to_dict(), indent=1, ensure_ascii=False))
        return
    t = inv.totals
    kind = "credit note" if inv.is_credit_note else "invoice"
    typer.echo(f"{inv.syntax.upper()} {kind} {inv.number} (type {inv.type_code}) of {inv.issue_date}, {inv.currency}")
    typer.echo(f"  seller: {inv.seller.name} (SIRET {inv.seller.siret or '-'}, VAT {inv.seller.vat_id or '-'})")
    typer.echo(f"  buyer:  {inv.buyer.name} (SIRET {inv.buyer.siret or '-'}); service code {inv.buyer_reference or '-'}")
    typer.echo(f"  order reference: {inv.order_reference or '-'}; corrects: {', '.join(inv.preceding_invoices) or '-'}")
    typer.echo(_table(["line", "description", "quantity", "unit", "gross price", "discount", "net price",
                       "net amount", "VAT"],
                      [[ln.line_id, (ln.description or "")[:40], ln.quantity, ln.unit, ln.gross_price,
                        ln.price_discount, ln.net_price if ln.price_base_quantity in (None, 1) else
                        f"{ln.net_price} per {ln.price_base_quantity:f}".rstrip("0").rstrip("."), ln.net_amount,
                        f"{ln.vat_category or ''} {ln.vat_rate if ln.vat_rate is not None else ''}".strip()]
                       for ln in inv.lines]))
    for ln in inv.lines:
        for a in ln.allowances_charges:
            typer.echo(f"  line {ln.line_id} {'charge' if a.is_charge else 'allowance'}: {a.amount}"
                       f" ({a.reason or '-'}, code {a.reason_code or '-'})")
    for a in inv.allowances_charges:
        typer.echo(f"  document {'charge' if a.is_charge else 'allowance'}: {a.amount}"
                   f" ({a.reason or '-'}, code {a.reason_code or '-'})")
    typer.echo(f"  line extension {t.line_extension} - allowances {t.allowances or 0} + charges {t.charges or 0}"
               f" = tax exclusive {t.tax_exclusive}; + VAT {t.tax} = {t.tax_inclusive};"
               f" - prepaid {t.prepaid or 0} + rounding {t.rounding or 0} = payable {t.payable}")
    violations = check_totals(inv)
    for v in violations:
        typer.secho(f"  {v.rule}: {v.text}: expected {v.expected}, found {v.actual}", fg="red")
    if not violations:
        typer.echo("  EN 16931 totals arithmetic: OK")


@app.command("chorus-sim")
def chorus_sim(
    home: Optional[Path] = HomeOption,
    port: int = typer.Option(8765, help="Port on 127.0.0.1 (0 = any free port)."),
):
    """Serve the Chorus Pro API (PISTE paths, token endpoint included) on 127.0.0.1 from the synthetic
    State-year in HOME/chorus/, until interrupted. It accepts only the MEDIARECON_CHORUS_* credentials,
    which must be set."""
    from simulators.chorus_pro import ChorusProSimulator

    from mediarecon.settings import SettingsError

    settings = _settings(home)
    try:
        sim = ChorusProSimulator(settings.home.root, settings.chorus, port=port)
    except (FileNotFoundError, OSError, SettingsError) as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"Chorus Pro simulator on {sim.url} ({len(sim.invoices)} invoices from {settings.home.root});"
               f" token URL {sim.url}/api/oauth/token; Ctrl-C to stop", )
    try:
        sim.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.server.server_close()


@app.command()
def demo(s3: bool = typer.Option(False, "--s3", help="Also start a local S3 server (moto, 127.0.0.1), put the "
                                 "synthetic inbox in a sender bucket and run with landing and validated Parquet on "
                                 "S3 (home ./var-s3; the S3 data lives as long as the command).")):
    """Generate the demo State-year (seed 1, scale 0.2) into ./var, start the Chorus Pro simulator on
    loopback and run one nightly reconciliation against it (with fresh random credentials unless
    MEDIARECON_CHORUS_* are set)."""
    from simulators.chorus_pro import ChorusProSimulator, demo_credentials

    for name, value in demo_credentials().items():
        os.environ.setdefault(name, value)

    home = Path(os.environ.get("MEDIARECON_HOME", "./var")).resolve()
    if s3:
        return _demo_s3(home.with_name(home.name + "-s3"))
    if (home / "inbox").exists() and any((home / "inbox").rglob("*.csv")):
        typer.echo(f"demo data already in {home / 'inbox'} (delete {home} to start over)")
    else:
        generate(seed=1, scale=0.2, year=2025, out=home)
    settings = _settings(home)
    with ChorusProSimulator(home, settings.chorus, port=0) as sim:
        os.environ.update({"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": sim.url,
                           "MEDIARECON_CHORUS_TOKEN_URL": sim.url + "/api/oauth/token"})
        typer.echo(f"Chorus Pro simulator on {sim.url}")
        summary = _run(home)
    _print_summary(summary, home)
    typer.echo("\ntry:")
    typer.echo(f"  .venv/bin/mediarecon query --home {home} \"select finding_type, count(*) from fct_findings group by 1\"")
    typer.echo(f"  .venv/bin/mediarecon status --home {home}")


def _demo_s3(home: Path) -> None:
    from simulators.chorus_pro import ChorusProSimulator

    with _demo_tools("demo --s3"):
        from simulators.s3_demo import LocalS3

    generated = home / "generated"
    if not (generated / "inbox").exists():
        generate(seed=1, scale=0.2, year=2025, out=generated)
    with LocalS3() as s3:
        s3.upload_inbox(generated / "inbox")
        typer.echo(f"S3 (moto) on {s3.endpoint_url}: sender bucket {s3.inbox_url}, landing {s3.landing_url},"
                   f" validated {s3.validated_url}")
        settings = _settings(home)
        with ChorusProSimulator(generated, settings.chorus, port=0) as sim:
            os.environ.update({"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": sim.url,
                               "MEDIARECON_CHORUS_TOKEN_URL": sim.url + "/api/oauth/token"})
            summary = _run(home)
    _print_summary(summary, home)


if __name__ == "__main__":
    app()
