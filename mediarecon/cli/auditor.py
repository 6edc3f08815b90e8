"""The auditor's commands, read-only on the published warehouse: query, saved audits, the monthly
statement, replay, the data dictionary, one e-invoice as parsed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import typer

from mediarecon.cli.common import (CONTEXT, ExitCode, HomeOption, app, fail, french_cell, json_default,
                                   load_settings, render_table)


OutputFormat = Literal["table", "csv", "json", "xlsx"]


ForceOption = typer.Option(False, "--force", help="Overwrite the --out file if it exists.")
CsvDialect = Literal["french", "standard"]
CsvDialectOption = typer.Option("french", "--csv-dialect", help="--format csv: french (';', decimal comma,"
                                " dd/mm/yyyy, CRLF, UTF-8 with BOM in a file: what Excel opens) or standard"
                                " (',', '.', ISO dates: for tools).")


def _open_reader(settings):
    """The published warehouse through the locked-down reader; a clear error when there is none yet."""
    from mediarecon.warehouse.reader import open_reader

    try:
        return open_reader(settings.home, settings.reader)
    except FileNotFoundError as e:
        fail(str(e), ExitCode.NOTHING_YET)


GRACE_S = 10


def _guard_process(limits) -> None:
    """Bound the whole process of a person's query, not only DuckDB's buffers: DuckDB's memory limit
    misses large lists and strings, and the rows become Python objects; it checks its interrupt only
    between chunks of work. So the address space is capped at the memory limit plus 2 GiB, and a
    watchdog ends the process GRACE_S after an overrun timeout; Ctrl-C ends it at once."""
    import resource
    import signal
    import threading

    cap = limits.memory_limit_bytes + 2 * 2**30
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))

    def overrun():
        sys.stderr.write(f"error: query stopped after {limits.timeout_s + GRACE_S:g} s: it ran longer than"
                         f" MEDIARECON_QUERY_TIMEOUT_S={limits.timeout_s:g}\n")
        os._exit(1)

    watchdog = threading.Timer(limits.timeout_s + GRACE_S, overrun)
    watchdog.daemon = True
    watchdog.start()
    # the last resort needs no Python at all: the kernel ends the process (SIGALRM's default action)
    signal.alarm(int(limits.timeout_s + 2 * GRACE_S))

    def interrupted(signum, frame):
        # exit from the handler: unwinding would close a connection whose query still runs, and block
        sys.stderr.write("error: interrupted (Ctrl-C): nothing written\n")
        os._exit(130)

    signal.signal(signal.SIGINT, interrupted)


def _reader_rows(settings, sql: str):
    """Run a reader's SQL on the published warehouse: (columns, rows), or exit with the error."""
    import duckdb

    from mediarecon.cli import common

    if common.dedicated_process:
        _guard_process(settings.reader)

    from mediarecon.warehouse.reader import ReaderError

    with _open_reader(settings) as reader:
        try:
            return reader.query(sql)
        except ReaderError as e:
            fail(str(e), ExitCode.FAILED)
        except duckdb.Error as e:  # duckdb's own message names what is wrong and where
            fail(str(e), ExitCode.FAILED)
        except (KeyboardInterrupt, RuntimeError) as e:  # DuckDB turns Ctrl-C into "Query interrupted"
            if isinstance(e, KeyboardInterrupt) or isinstance(e.__cause__, KeyboardInterrupt):
                fail("interrupted (Ctrl-C): nothing written", ExitCode.INTERRUPTED)
            raise


@dataclass
class _Output:
    """Where --out writes: the folder, held open from the check to the write, so that swapping a path
    component for a symlink while the query runs changes nothing."""

    shown: Path
    dir_fd: int
    name: str
    force: bool
    home: Path


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _check_output(settings, format: str, out: Optional[Path], force: bool) -> Optional[_Output]:
    """Refuse a bad --format, a missing --out, an --out inside the home folder, or one that exists
    (unless --force), before any query runs."""
    if format == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE.xlsx", ExitCode.USAGE)
    if out is None:
        return None
    target = out.expanduser().absolute()
    root = settings.home.root.resolve()
    refuse = (f"--out {out} is inside the home folder {root} (warehouse, landing, manifest, inbox, validated,"
              " quarantine, runs…): write the result outside it")
    if _inside(target, root) or not target.name or target.name in (".", ".."):
        fail(refuse if _inside(target, root) else f"--out {out} is a folder: give a file name", ExitCode.USAGE)
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        fail(f"--out {out}: the folder {target.parent} does not exist", ExitCode.USAGE)
    # where the open folder really is, whatever links led to it
    if _inside(Path(os.readlink(f"/proc/self/fd/{dir_fd}")), root):
        os.close(dir_fd)
        fail(refuse, ExitCode.USAGE)
    try:
        st = os.stat(target.name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return _Output(out, dir_fd, target.name, force, root)
    if stat.S_ISLNK(st.st_mode) and _inside(Path(os.path.realpath(f"/proc/self/fd/{dir_fd}/{target.name}")), root):
        os.close(dir_fd)
        fail(refuse, ExitCode.USAGE)
    if stat.S_ISDIR(st.st_mode):
        os.close(dir_fd)
        fail(f"--out {out} is a folder: give a file name", ExitCode.USAGE)
    if not stat.S_ISREG(st.st_mode):
        # --force replaces an entry: never a link, a device or a pipe (/dev/null, /dev/stdout…)
        os.close(dir_fd)
        fail(f"--out {out} exists and is not a regular file (a link, device or pipe): give another name",
             ExitCode.USAGE)
    if not force:
        os.close(dir_fd)
        fail(f"--out {out} exists: add --force to overwrite it", ExitCode.USAGE)
    return _Output(out, dir_fd, target.name, force, root)


def _write_output(target: _Output, data: bytes) -> None:
    """A new file beside the target in the folder held open, then moved in: --force replaces the entry
    (never writes through it); without --force an entry that appeared meanwhile is not overwritten."""
    import secrets

    part = f".{target.name}.{secrets.token_hex(4)}.part"
    try:
        # the folder may have been moved while the query ran: still not into the home
        if _inside(Path(os.readlink(f"/proc/self/fd/{target.dir_fd}")), target.home):
            fail(f"--out {target.shown}: its folder was moved into the home folder {target.home} meanwhile;"
                 " nothing written", ExitCode.USAGE)
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666, dir_fd=target.dir_fd)
        except OSError as e:
            fail(f"--out {target.shown}: cannot write there ({e.strerror})", ExitCode.USAGE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if target.force:
            os.replace(part, target.name, src_dir_fd=target.dir_fd, dst_dir_fd=target.dir_fd)
        else:
            try:
                os.link(part, target.name, src_dir_fd=target.dir_fd, dst_dir_fd=target.dir_fd)
            except FileExistsError:
                fail(f"--out {target.shown} exists: add --force to overwrite it", ExitCode.USAGE)
    finally:
        try:
            os.unlink(part, dir_fd=target.dir_fd)
        except FileNotFoundError:
            pass
        os.close(target.dir_fd)


def csv_text(columns, rows, dialect: CsvDialect) -> str:
    buf = io.StringIO()
    if dialect == "standard":
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
        return buf.getvalue().rstrip("\n")
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(columns)
    w.writerows([french_cell(v) for v in r] for r in rows)
    return buf.getvalue().removesuffix("\r\n")


def _emit(columns, rows, format: str, out: Optional[_Output], title: str, dialect: CsvDialect = "french") -> None:
    """Print (table, csv, json) or write (--out, checked by _check_output; xlsx needs it) a result."""
    if format == "xlsx":
        from mediarecon.exports.reports import Column, write_xlsx

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
        text = json.dumps([dict(zip(columns, r)) for r in rows], default=json_default, ensure_ascii=False, indent=1)
    elif format == "csv":
        text = csv_text(columns, rows, dialect)
    else:
        text = render_table(columns, rows)
    if out is None:
        typer.echo(text)
    elif format == "csv" and dialect == "french":  # Excel reads UTF-8 only after a BOM
        _write_output(out, (text + "\r\n").encode("utf-8-sig"))
    else:
        _write_output(out, (text + "\n").encode("utf-8"))
        typer.echo(f"{len(rows)} row(s) written to {out.shown}")


@app.command()
def query(
    sql: str = typer.Argument(..., help="SQL to run, read-only, on the published warehouse (queries only)."),
    home: Optional[Path] = HomeOption,
    format: OutputFormat = typer.Option("table", "--format", help="The output."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file (outside the home folder) instead of"
                                       " the screen (xlsx: required)."),
    force: bool = ForceOption,
    csv_dialect: CsvDialect = CsvDialectOption,
):
    """Query the published warehouse read-only (works while a run is building the next one). One plain query
    (SELECT, WITH, VALUES, FROM) on the published marts; nothing else can be read or written."""
    settings = load_settings(home)
    target = _check_output(settings, format, out, force)
    columns, rows = _reader_rows(settings, sql)
    _emit(columns, rows, format, target, "mediarecon — requête", csv_dialect)


@app.command()
def audit(
    name: Optional[str] = typer.Argument(None, help="A saved audit query; none: list them."),
    home: Optional[Path] = HomeOption,
    format: OutputFormat = typer.Option("table", "--format", help="The output."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file (outside the home folder) instead of"
                                       " the screen (xlsx: required)."),
    force: bool = ForceOption,
    csv_dialect: CsvDialect = CsvDialectOption,
):
    """The cost-control auditor's saved queries, read-only on the published warehouse."""
    from mediarecon.exports.audit import saved_queries

    queries = saved_queries()
    if name is None:
        for n, (description, _) in queries.items():
            typer.echo(f"{n:<22} {description}")
        return
    if name not in queries:
        fail(f"no audit query {name!r} (one of: {', '.join(queries)})", ExitCode.USAGE)
    description, sql = queries[name]
    settings = load_settings(home)
    target = _check_output(settings, format, out, force)
    columns, rows = _reader_rows(settings, sql)
    _emit(columns, rows, format, target, f"mediarecon — {description}", csv_dialect)


report_app = typer.Typer(
    context_settings=CONTEXT, help="Reports the agency owes, exported under exports/ (XLSX or French CSV).")
app.add_typer(report_app, name="report")


def _write_report(settings, chosen: Optional[_Output], name: str, make) -> Path:
    """A report written by `make(path)` under exports/, or to the --out checked before the query."""
    if chosen is None:
        settings.home.exports.mkdir(parents=True, exist_ok=True)
        make(settings.home.exports / name)
        return settings.home.exports / name
    with tempfile.TemporaryDirectory() as scratch:  # made aside, then written through the folder held open
        make(Path(scratch) / name)
        _write_output(chosen, (Path(scratch) / name).read_bytes())
    return chosen.shown


@report_app.command("monthly")
def report_monthly(
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    advertiser: Optional[str] = typer.Option(None, "--advertiser", help="An advertiser id (e.g. ADV-SIG); default: all."),
    format: Literal["xlsx", "csv"] = typer.Option("xlsx", "--format",
                               help="csv: French (';', decimal comma, UTF-8 with BOM)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file (outside the home folder) instead"
                                       " of exports/."),
    force: bool = ForceOption,
    home: Optional[Path] = HomeOption,
):
    """The monthly execution statement (CCAP 11.2.5), global or for one advertiser, from the published
    warehouse (read-only). A month with no order is refused (exit 2), naming the months there are."""
    from mediarecon.exports import reports

    import duckdb

    from mediarecon.warehouse.reader import ReaderError

    settings = load_settings(home)
    chosen = _check_output(settings, "csv", out, force) if out is not None else None  # the same checks as query's
    with _open_reader(settings) as reader:
        try:
            title, rows = reports.monthly_statement(reader, month, advertiser)
            months = None if rows else reader.execute(
                "select min(statement_month), max(statement_month) from rpt_monthly_execution_statement").fetchone()
            objectives = reports.monthly_objectives(reader, month, advertiser)
            origin = reader.origin() if rows and format == "xlsx" else None
        except reports.ReportError as e:
            fail(str(e), ExitCode.USAGE)
        except (ReaderError, duckdb.Error, OSError) as e:
            fail(str(e).splitlines()[0], ExitCode.FAILED)
    if not rows:  # an empty statement would look like a month with nothing to pay
        known = f"{months[0]:%Y-%m} to {months[1]:%Y-%m}" if months and months[0] else "none yet"
        fail(f"no order in {month}{' for ' + advertiser if advertiser else ''} in the published warehouse"
             f" (months with orders: {known}): nothing written", ExitCode.USAGE)
    name = reports.statement_file_name(month, advertiser, format)

    def make(path: Path) -> None:
        if format == "xlsx":
            reports.write_statement_xlsx(path, title, reports.statement_month(month), rows, objectives, origin)
        else:
            reports.write_french_csv(path, reports.MONTHLY_STATEMENT, rows)

    target = _write_report(settings, chosen, name, make)
    typer.echo(f"{title}: {len(rows)} order(s) -> {target}")


@report_app.command("campaign")
def report_campaign(
    campaign: str = typer.Option(..., "--campaign", help="The campaign id, CMP-YYYY-NNNN."),
    format: Literal["xlsx", "pdf"] = typer.Option("xlsx", "--format",
                                                help="pdf: printed by headless Chromium (chromium on the PATH)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file (outside the home folder) instead"
                                       " of exports/."),
    force: bool = ForceOption,
    home: Optional[Path] = HomeOption,
):
    """The campaign report of a digital campaign (CCAP 11.10.3, decree 2017-159), its sections in French in
    the decree's order, from the published warehouse (read-only); what the data cannot fill is written
    "non fourni" with the source that would fill it. An unknown campaign is refused (exit 2)."""
    import duckdb

    from mediarecon.exports import campaign_report, reports
    from mediarecon.warehouse.reader import ReaderError
    from mediarecon.web.scope import Scope

    settings = load_settings(home)
    if format == "pdf" and campaign_report.chromium() is None:
        fail("--format pdf needs Chromium: install the chromium package or set MEDIARECON_CHROMIUM", ExitCode.USAGE)
    chosen = _check_output(settings, "csv", out, force) if out is not None else None  # the same checks as query's
    everything = Scope(None)  # the auditor's command: every advertiser, through the same relations as the dashboard

    with _open_reader(settings) as reader:
        def query(template: str, params: dict) -> list[dict]:
            sql = everything.sql(template)
            cur = reader.execute(sql, everything.params(sql, params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

        try:
            report = campaign_report.build(query, campaign)
        except reports.ReportError as e:
            fail(str(e), ExitCode.USAGE)
        except (ReaderError, duckdb.Error) as e:
            fail(str(e).splitlines()[0], ExitCode.FAILED)
    name = campaign_report.file_name(campaign, format)

    def make(path: Path) -> None:
        try:
            if format == "xlsx":
                campaign_report.write_report_xlsx(path, report)
            else:
                campaign_report.write_report_pdf(path, report)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            fail(str(e), ExitCode.FAILED)

    target = _write_report(settings, chosen, name, make)
    lacking = sum(1 for row in campaign_report.summary(report) if row[2] == campaign_report.NOT_PROVIDED)
    typer.echo(f"{report.title}: {len(report.sections)} section(s), {lacking} item(s) non fourni(s) -> {target}")


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
    from mediarecon.warehouse.replay import ReplayError, replay as run_replay
    from mediarecon.warehouse.build import BuildError

    from mediarecon.alerts.rules import AlertRulesError, rules_of

    settings = load_settings(home)
    try:
        current = settings.dbt_vars(rules_of(settings)) if as_of else None
        result = run_replay(settings.home, out.resolve(), run_id=run_id, as_of=as_of, current_vars=current,
                            log=typer.echo)
    except (ReplayError, AlertRulesError) as e:
        fail(str(e), ExitCode.USAGE)
    except BuildError as e:
        typer.secho(f"replay failed: {e}", fg="red", err=True)
        raise typer.Exit(ExitCode.FAILED)
    typer.echo(f"replayed {run_id or 'as of ' + as_of}: {result['files']} landed file(s),"
               f" as-of date {result['dbt_vars']['as_of_date']}")
    typer.echo(f"warehouse: {result['warehouse']}  (open it with duckdb, read-only)")


@app.command()
def docs(
    home: Optional[Path] = HomeOption,
    port: int = typer.Option(8080, help="Port on 127.0.0.1 (0: any free port)."),
):
    """Serve the data dictionary (dbt docs of the last run, every mart column in English and French) on
    127.0.0.1 until Ctrl-C; also exports/docs/data_dictionary.csv."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    folder = load_settings(home).home.exports / "docs"
    if not (folder / "index.html").exists():
        fail(f"no data dictionary in {folder}: a nightly run writes it", ExitCode.NOTHING_YET)

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


@app.command("parse-invoice")
def parse_invoice(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="UBL, CII XML or Factur-X PDF."),
    format: Literal["text", "json"] = typer.Option("text", "--format",
                               help="json: amounts as exact strings."),
):
    """Print one e-invoice as parsed (header, totals, lines, allowances and charges) and its EN 16931 totals
    check, so that a person can verify a document."""
    from connectors.einvoice import EInvoiceError, check_totals, parse_file

    try:
        inv = parse_file(file)
    except EInvoiceError as e:
        fail(str(e), ExitCode.FAILED)
    if format == "json":
        typer.echo(json.dumps(inv.to_dict(), indent=1, ensure_ascii=False))
        return
    t = inv.totals
    kind = "credit note" if inv.is_credit_note else "invoice"
    typer.echo(f"{inv.syntax.upper()} {kind} {inv.number} (type {inv.type_code}) of {inv.issue_date}, {inv.currency}")
    typer.echo(f"  seller: {inv.seller.name} (SIRET {inv.seller.siret or '-'}, VAT {inv.seller.vat_id or '-'})")
    typer.echo(f"  buyer:  {inv.buyer.name} (SIRET {inv.buyer.siret or '-'}); service code {inv.buyer_reference or '-'}")
    typer.echo(f"  order reference: {inv.order_reference or '-'}; corrects: {', '.join(inv.preceding_invoices) or '-'}")
    typer.echo(render_table(["line", "description", "quantity", "unit", "gross price", "discount", "net price",
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


@app.command()
def evidence(
    finding_id: str = typer.Argument(..., help="The finding's id (fct_findings.finding_id)."),
    format: Literal["text", "json"] = typer.Option("text", "--format", help="The output."),
    home: Optional[Path] = HomeOption,
):
    """A finding's proof: the received file as its sender named it, when it arrived, the runs that
    landed and validated it, and the raw line itself (for an e-invoice batch, the document inside)."""
    from mediarecon.exports.evidence import evidence_of
    from mediarecon.ingest.storage import landing_store
    from mediarecon.state.manifest import Manifest

    settings = load_settings(home)
    columns, rows = _reader_rows(settings, "select * from fct_findings where finding_id = "
                                           + "'" + finding_id.replace("'", "''") + "'")
    if not rows:
        fail(f"no finding {finding_id!r} in the published warehouse (see `mediarecon query \"select finding_id,"
             " finding_type from fct_findings\"`)", ExitCode.USAGE)
    finding = dict(zip(columns, rows[0]))
    if not settings.home.manifest.exists():
        fail(f"no manifest at {settings.home.manifest}: nothing was received in this home", ExitCode.NOTHING_YET)
    proof = evidence_of(finding, Manifest(settings.home.manifest), landing_store(settings))
    if format == "json":
        typer.echo(json.dumps({"finding": finding, "evidence": proof.as_dict()}, default=json_default,
                              ensure_ascii=False, indent=2))
        return
    facts = [("finding", f"{finding['finding_type']} {finding['entity_key']} ({finding['finding_id']})"),
             ("amount at stake", f"{finding['amount_at_stake_eur']} EUR"),
             ("source", f"{proof.evidence_source or '-'}" + (f" ({proof.manifest_source})" if proof.manifest_source else "")),
             ("received file", proof.original_name or "-"), ("document", proof.document_name),
             ("received at", proof.received_at), ("received by run", proof.received_run_id),
             ("validated by run", proof.processed_run_id), ("line", proof.line), ("sha256", proof.sha256),
             ("landed as", proof.landing_key)]
    for name, value in facts:
        if value is not None:
            typer.echo(f"{name + ':':18} {value}")
    if proof.raw is not None:
        typer.echo("as received:")
        if proof.header:
            typer.echo("  " + proof.header)
        typer.echo("  " + proof.raw.replace("\n", "\n  "))
    if proof.note:
        typer.echo(f"note: {proof.note}")
