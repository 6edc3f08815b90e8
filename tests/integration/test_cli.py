"""Smoke: the installed `mediarecon` console script, as a person runs it (own process, own Prefect)."""

import csv
import datetime as dt
import hashlib
import io
import json
import re
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.rendering import pdf_pages, render

MEDIARECON = str(Path(sys.executable).parent / "mediarecon")
DEMO = str(Path(sys.executable).parent / "mediarecon-demo")
COMMANDS = [("mediarecon", c) for c in ["init", "run", "query", "status", "report", "alerts", "audit", "replay", "export-all",
                                        "purge", "serve", "docs", "web", "users", "evidence"]] \
    + [("mediarecon-demo", c) for c in ["generate", "chorus-sim", "run"]]


def sh(*args, check=True, env=None, script=MEDIARECON):
    p = subprocess.run([script, *map(str, args)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, **(env or {})})
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


@pytest.mark.parametrize("script,command", COMMANDS)
def test_every_command_has_help(script, command):
    out = sh(command, "--help", script=str(Path(sys.executable).parent / script)).stdout
    assert f"Usage: {script} {command}" in out
    assert len(out.split("\n")) > 4


def test_generate_run_query_status(tmp_path):
    home = tmp_path / "var"
    out = sh("generate", "--seed", 4, "--scale", 0.02, "--out", home, script=DEMO).stdout
    assert "anomalies:" in out and (home / "ground_truth" / "anomalies.csv").exists()
    sim = subprocess.Popen([DEMO, "chorus-sim", "--home", str(home), "--port", "0"], stdout=subprocess.PIPE,
                           text=True)
    try:
        url = sim.stdout.readline().split(" on ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        ran = sh("run", "--home", home, env={"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": url,
                                             "MEDIARECON_CHORUS_TOKEN_URL": url + "/api/oauth/token"})
        out = ran.stdout
    finally:
        sim.terminate()
        sim.wait(10)
    assert "chorus pro:" in out
    assert "findings:" in out and str(home / "warehouse" / "mediarecon.duckdb") in out
    # dbt's node lines are in its log file, as text; the console shows the phases, not 260 node lines
    dbt_log = (home / "runs" / "dbt" / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "OK created sql table model main.fct_findings" in dbt_log and "\x1b[" not in dbt_log
    assert "OK created sql table model" not in out
    # while the build runs (15 s or more here), it says how far it is every 5 s: `dbt build: 131/264 node(s)`
    assert re.search(r"dbt build: \d+/\d+ node\(s\)", ran.stderr), ran.stderr[-3000:]
    (first_report,) = (home / "runs").glob("*.md")
    quiet = sh("run", "--home", home, "--quiet")  # nothing new (and Chorus Pro off): the exit code says it all
    assert quiet.stdout == "" and " INFO " not in quiet.stderr, quiet.stdout + quiet.stderr
    report = first_report.read_text(encoding="utf-8")
    with open(home / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        labels = sorted((r["anomaly_type"], r["entity_key"]) for r in csv.DictReader(f))
    under = sum(1 for t, _ in labels if t == "under_delivery")
    assert "## Findings in the published warehouse" in report and f"| under_delivery | {under} |" in report
    got = sh("query", "--home", home, "--format", "csv",
             "select finding_type, entity_key from fct_findings order by 1, 2").stdout
    assert sorted(tuple(r) for r in list(csv.reader(io.StringIO(got), delimiter=";"))[1:]) == labels  # French
    table = sh("query", "--home", home, "select count(*) as n from fct_findings").stdout
    assert table.splitlines()[0].strip() == "n" and f"({1} row)" in table
    p = sh("query", "--home", home, "drop table fct_findings", check=False)
    assert p.returncode == 1 and "read-only" in p.stderr
    check_monthly_statement(home)
    status = json.loads(sh("status", "--home", home, "--format", "json").stdout)
    assert status["runs"][0]["status"] == "succeeded"
    assert [w["source"] for w in status["watermarks"]] == ["chorus_pro.current_status_at"]
    assert {r["source"] for r in status["files_by_source"]} == {
        "purchase_orders", "order_lines", "ad_server", "regie_reports", "email_deliverability",
        "forbidden_campaigns", "penalty_events", "planned_pauses", "invoice_exports", "einvoices", "chorus_pro",
        "chorus_pro_documents", "brand_safety", "admission_decisions"}


def test_query_is_read_only_and_errors_are_clear(tmp_path):
    sh("init", "--home", tmp_path)
    p = sh("query", "--home", tmp_path, "select 1", check=False)
    assert p.returncode == 5 and "no published warehouse" in p.stderr  # ExitCode.NOTHING_YET
    p = sh("query", "--home", tmp_path, "--format", "xml", "select 1", check=False)
    assert p.returncode == 2 and "'xml' is not one of" in p.stderr
    p = sh("audit", "late_payments", "--home", tmp_path, "--format", "xlsx", check=False)
    assert p.returncode == 2 and "--format xlsx needs --out" in p.stderr


def check_monthly_statement(home):
    """The statement's media TTC total, worked out from the agency's purchase-order export: the orders
    in execution in May 2025 (ordered by then, not ended before)."""
    expected, orders = Decimal("0"), 0
    for path in (home / "inbox" / "purchase_orders").glob("*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            for r in csv.DictReader(f, delimiter=";"):
                ordered = dt.datetime.strptime(r["Date du BDC"], "%d/%m/%Y").date().replace(day=1)
                ends = dt.datetime.strptime(r["Date de fin"], "%d/%m/%Y").date().replace(day=1)
                if ordered <= dt.date(2025, 5, 1) <= ends:
                    expected += Decimal(r["Montant TTC"].replace(",", "."))
                    orders += 1
    out = sh("report", "monthly", "--home", home, "--month", "2025-05", "--format", "csv").stdout
    assert f": {orders} order(s) -> " in out
    raw = (home / "exports" / "etat_execution_2025-05_global.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows[0]) == 15 and rows[0][0] == "Ordonnateur niveau 1" and rows[0][9] == "Prix TTC à payer"
    assert rows[-1][0] == "Total" and Decimal(rows[-1][7].replace(",", ".")) == expected
    sh("report", "monthly", "--home", home, "--month", "2025-05")
    from openpyxl import load_workbook

    xlsx = (home / "exports" / "etat_execution_2025-05_global.xlsx").read_bytes()
    ws = load_workbook(io.BytesIO(xlsx)).active
    assert ws.freeze_panes == "A9" and ws["A1"].value.startswith("État récapitulatif d'exécution — 05/2025")
    assert ws.cell(row=ws.max_row, column=1).value == "Total" and ws["H9"].number_format == '#,##0.00 "€"'
    assert sum(1 for (po,) in ws.iter_rows(min_row=9, min_col=3, max_col=3, values_only=True) if po) == orders
    # the header block names the very warehouse file and the run that built it
    assert ws["A6"].value == "Entrepôt source (SHA-256) : " + hashlib.sha256(
        (home / "warehouse" / "mediarecon.duckdb").read_bytes()).hexdigest()
    run_id = ws["A4"].value.split(" : ")[1]
    assert json.loads((home / "runs" / f"{run_id}.json").read_text(encoding="utf-8"))["status"] == "succeeded"
    # LibreOffice computes the SUM formulas: the total is the purchase orders' own, to the cent
    computed = load_workbook(render(xlsx, home.parent, "xlsx"), data_only=True).active
    assert Decimal(str(computed.cell(row=computed.max_row, column=8).value)).quantize(Decimal("0.01")) == expected
    pages = pdf_pages(render(xlsx, home.parent, "pdf"))
    assert pages and all((round(w), round(h)) == (842, 595) for w, h, _ in pages)  # A4 landscape
    assert all("Ordonnateur" in t and "Réfactions" in t for _, _, t in pages[:-1])  # every column, every page
    bad = sh("report", "monthly", "--home", home, "--month", "2025-5", check=False)
    assert bad.returncode == 2 and "--month '2025-5' is not YYYY-MM" in bad.stderr
    # a month with no order is refused, naming the months there are, and nothing is written
    empty = sh("report", "monthly", "--home", home, "--month", "2031-03", check=False)
    assert empty.returncode == 2 and "no order in 2031-03" in empty.stderr and "months with orders: 20" in empty.stderr
    assert not (home / "exports" / "etat_execution_2031-03_global.xlsx").exists()
    # --out, checked as query's: outside the home, written whole
    out = home.parent / "etat_mai.csv"
    sh("report", "monthly", "--home", home, "--month", "2025-05", "--format", "csv", "--out", out)
    assert out.read_bytes() == raw
    inside = sh("report", "monthly", "--home", home, "--month", "2025-05", "--out", home / "x.xlsx", check=False)
    assert inside.returncode == 2 and not (home / "x.xlsx").exists()


def test_serve_registers_the_schedule_written_in_prefect_yaml(prefect_server, tmp_path):
    """`mediarecon serve` against a Prefect server: the two deployments of prefect.yaml, 02:00 and 06:00
    Paris time, one run at a time."""
    import asyncio
    import time

    import yaml
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

    from mediarecon import __version__
    from mediarecon.flows.schedule import PREFECT_YAML

    spec = {d["name"]: d for d in yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]}
    assert spec["nightly-reconciliation"]["schedules"] == [{"cron": "0 2 * * *", "timezone": "Europe/Paris"}]
    sh("init", "--home", tmp_path / "home")
    proc = subprocess.Popen([MEDIARECON, "serve", "--home", str(tmp_path / "home")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()})

    async def deployments():
        async with get_client() as client:
            return {d.name: d for d in await client.read_deployments()}

    try:
        deadline = time.monotonic() + 120
        found = {}
        while time.monotonic() < deadline and not set(spec) <= set(found):
            time.sleep(2)
            assert proc.poll() is None, proc.stdout.read()
            found = asyncio.run(deployments())
        assert set(spec) <= set(found)
        for name, d in spec.items():
            got = found[name]
            assert [(s.schedule.cron, s.schedule.timezone) for s in got.schedules] == \
                [(x["cron"], x["timezone"]) for x in d["schedules"]]
            assert got.global_concurrency_limit.limit == 1
            assert got.concurrency_options.collision_strategy.value == "CANCEL_NEW"
            assert got.parameters["home"] == str(tmp_path / "home")
            assert got.version == __version__ == d["version"] and "mediarecon" in got.tags and got.tags == d["tags"]
    finally:
        proc.terminate()
        proc.wait(60)


def test_serve_on_another_port_serves_a_ui_that_talks_to_that_port(tmp_path):
    """Without PREFECT_API_URL, `serve --port N` starts its own Prefect server on N: the UI it serves must
    call the API on N (it called 127.0.0.1:4200, Prefect's default)."""
    import json as json_
    import signal
    import time
    import urllib.request

    from tests.receivers import free_port

    sh("init", "--home", tmp_path / "home")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    proc = subprocess.Popen([MEDIARECON, "serve", "--home", str(tmp_path / "home"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline, settings = time.monotonic() + 150, None
        while time.monotonic() < deadline and settings is None:
            assert proc.poll() is None, proc.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ui-settings", timeout=5) as r:
                    settings = json_.loads(r.read())
            except OSError:
                time.sleep(2)
        assert settings and settings["api_url"] == f"http://127.0.0.1:{port}/api"
    finally:
        proc.send_signal(signal.SIGTERM)  # a service manager's stop
        out = proc.communicate(timeout=60)[0]
    assert "never awaited" not in out and "stopped: the schedules are paused" in out, out[-2000:]
    assert proc.returncode == 0
