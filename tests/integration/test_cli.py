"""Smoke: the installed `mediarecon` console script, as a person runs it (own process, own Prefect)."""

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

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
        out = sh("run", "--home", home, env={"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": url,
                                             "MEDIARECON_CHORUS_TOKEN_URL": url + "/api/oauth/token"}).stdout
    finally:
        sim.terminate()
        sim.wait(10)
    assert "chorus pro:" in out
    assert "findings:" in out and str(home / "warehouse" / "mediarecon.duckdb") in out
    report = next((home / "runs").glob("*.md")).read_text(encoding="utf-8")
    with open(home / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        labels = sorted((r["anomaly_type"], r["entity_key"]) for r in csv.DictReader(f))
    under = sum(1 for t, _ in labels if t == "under_delivery")
    assert "## Findings in the published warehouse" in report and f"| under_delivery | {under} |" in report
    got = sh("query", "--home", home, "--format", "csv",
             "select finding_type, entity_key from fct_findings order by 1, 2").stdout
    assert sorted(tuple(r) for r in list(csv.reader(io.StringIO(got)))[1:]) == labels
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
        "chorus_pro_documents"}


def test_query_is_read_only_and_errors_are_clear(tmp_path):
    sh("init", "--home", tmp_path)
    p = sh("query", "--home", tmp_path, "select 1", check=False)
    assert p.returncode == 1 and "no published warehouse" in p.stderr
    p = sh("query", "--home", tmp_path, "--format", "xml", "select 1", check=False)
    assert p.returncode == 2 and "--format must be one of table, csv, json, xlsx" in p.stderr
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

    ws = load_workbook(home / "exports" / "etat_execution_2025-05_global.xlsx").active
    assert ws.freeze_panes == "A4" and ws["A1"].value.startswith("État récapitulatif d'exécution — 05/2025")
    assert ws.cell(row=ws.max_row, column=1).value == "Total" and ws.max_row == 3 + orders + 1
    assert ws["H4"].number_format == '#,##0.00 "€"'
    bad = sh("report", "monthly", "--home", home, "--month", "2025-5", check=False)
    assert bad.returncode == 2 and "--month '2025-5' is not YYYY-MM" in bad.stderr


def test_serve_registers_the_schedule_written_in_prefect_yaml(prefect_server, tmp_path):
    """`mediarecon serve` against a Prefect server: the two deployments of prefect.yaml, 02:00 and 06:00
    Paris time, one run at a time."""
    import asyncio
    import time

    import yaml
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

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
    finally:
        proc.terminate()
        proc.wait(60)
