"""The nightly reconciliation end to end: generated inbox -> real Prefect flow -> real dbt build ->
published DuckDB, queried as a user would."""

import csv
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from decimal import Decimal

import duckdb
import pytest

from mediarecon.cli import app
from tests.conftest import copy_inbox, tree_state
from tests.integration.nightly import (ADVERTISER_OF, assert_labelled_anomalies_found, cli, dbt_results,
                                      labelled_advertisers, marts, mediarecon, project_unit_tests, query_json, run)

pytestmark = pytest.mark.usefixtures("prefect_server", "chorus_pro")


@pytest.fixture(scope="module", autouse=True)
def with_dbt_unit_tests():
    """This module's nightlies also run dbt's unit tests (a nightly skips them by default): CI proves the
    project's SQL here, on DuckDB, and in test_spark.py on Spark."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDIARECON_DBT_UNIT_TESTS", "true")
        yield


def test_the_nightly_ran_every_dbt_unit_test_of_the_project_and_each_passed(first_run):
    home, _, _ = first_run
    ran = {uid.rsplit(".", 1)[1]: status for uid, status in dbt_results(home).items() if uid.startswith("unit_test.")}
    assert set(ran) == project_unit_tests() and len(ran) >= 40
    assert set(ran.values()) == {"pass"}

def test_every_labelled_anomaly_is_found_and_nothing_else(first_run, state_year):
    home, summary, _ = first_run
    assert_labelled_anomalies_found(home, summary, state_year)


def test_order_line_delivery_mart(first_run, state_year):
    home, _, _ = first_run
    rows = query_json(home, "select delivery_status, count(*) as n, sum(ordered_net_ht_eur) as net"
                            " from fct_order_line_delivery group by 1 order by 1")
    by_status = {r["delivery_status"]: r for r in rows}
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        under = [r for r in csv.DictReader(f) if r["anomaly_type"] == "under_delivery"]
    assert by_status["under_delivered"]["n"] == len(under)
    with open(state_year / "inbox" / "order_lines" / next(
            p.name for p in (state_year / "inbox" / "order_lines").iterdir()), encoding="cp1252") as f:
        assert f.readline().startswith("N° BDC;N° ligne")
    total_lines = sum(r["n"] for r in rows)
    assert total_lines == len(query_json(home, "select order_line_id from fct_order_line_delivery"))


def test_evidence_points_to_a_received_file_and_line(first_run):
    home, _, _ = first_run
    row = query_json(home, "select evidence_file_sha256 as sha, evidence_line as line from fct_findings"
                           " where finding_type = 'delivery_without_order' order by entity_key limit 1")[0]
    landed = next((home / "landing" / "ad_server").glob(row["sha"] + "*"))
    line = landed.read_text(encoding="utf-8").splitlines()[row["line"] - 1]
    placement = query_json(home, "select entity_key from fct_findings where finding_type ="
                                 " 'delivery_without_order' order by entity_key limit 1")[0]["entity_key"]
    assert f",{placement}," in line
    # every finding carries evidence (a file; and its line for tabular files, not for e-invoice
    # documents) except a yearly EPM miss, judged on all the year's delivery; an e-mail block's evidence
    # is the router row showing it
    assert query_json(home, "select count(*) as n from fct_findings where finding_type <> 'epm_miss' and"
                            " (evidence_file_sha256 is null or (evidence_line is null and evidence_source"
                            " not in ('einvoice', 'agency')))")[0]["n"] == 0
    for f in query_json(home, "select entity_key, evidence_file_sha256 as sha, evidence_line as line"
                              " from fct_findings where finding_type = 'email_deliverability_drop'"):
        landed = next((home / "landing" / "email_deliverability").glob(f["sha"] + "*"))
        cells = landed.read_text(encoding="utf-8").splitlines()[f["line"] - 1].split(",")
        campaign, isp = f["entity_key"].split("|")
        assert cells[3] == isp and cells[5] == "0"  # ESPName, DeliveredMessagesCount


def test_every_finding_is_its_advertisers_as_the_files_sent_say(first_run, state_year):
    """advertiser_id scopes the dashboard and routes the alerts: each finding names the advertiser its order
    line, order, campaign, invoice or rebate belongs to in the generated files, and only contract-wide
    findings name none; every alert condition made of a finding (a missing rebate too) is that advertiser's."""
    home, _, _ = first_run
    expected = labelled_advertisers(state_year)
    findings = query_json(home, "select finding_id, finding_type, entity_key, advertiser_id from fct_findings")
    assert {(f["finding_type"], f["entity_key"]) for f in findings} == set(expected)
    for f in findings:
        key = (f["finding_type"], f["entity_key"])
        assert f["advertiser_id"] == expected[key], key
        assert (f["advertiser_id"] is None) == (f["finding_type"] in ADVERTISER_OF["none"]), key
    conditions = query_json(home, "select c.alert_rule, c.entity_key, c.advertiser_id, f.advertiser_id as of_finding"
                                  " from fct_alert_conditions as c inner join fct_findings as f using (finding_id)")
    assert len(conditions) == len(findings)
    assert [c for c in conditions if c["advertiser_id"] != c["of_finding"]] == []
    assert any(c["alert_rule"] == "missing_deferred_rebate" and c["advertiser_id"] for c in conditions)


def test_e_invoice_evidence_names_its_document_in_the_batch(first_run):
    """A Chorus Pro download is a ZIP of many invoices: the finding names the one it rests on (a file that is
    one document names none), and that document is the finding's invoice (its number) or quotes its order."""
    from connectors.einvoice import parse_bytes
    from mediarecon.ingest.einvoices import supplier_id

    home, _, _ = first_run
    rows = query_json(home, "select finding_type, entity_key, evidence_source, evidence_file_sha256 as sha,"
                            " evidence_document_name as document from fct_findings")
    assert [r for r in rows if r["evidence_source"] != "einvoice" and r["document"] is not None] == []
    documents = [r for r in rows if r["evidence_source"] == "einvoice"]
    in_batches = 0
    for r in documents:
        landed = next((home / "landing").glob(f"*/{r['sha']}*"))
        if r["document"] is not None:
            with zipfile.ZipFile(landed) as z:
                data = z.read(r["document"].split("!", 1)[1])
            in_batches += 1
        else:
            data = landed.read_bytes()
        invoice = parse_bytes(data, r["document"] or landed.name)
        if "|" in r["entity_key"]:  # supplier|number
            assert f"{supplier_id(invoice)}|{invoice.number}" == r["entity_key"], r
        else:  # an order line or a purchase order
            assert invoice.order_reference == r["entity_key"].split("-")[0], r
    assert in_batches >= len(documents) // 2 > 0


def test_second_run_on_same_inbox_changes_nothing(second_run):
    """Also: an auditor held a connection on the published warehouse all along."""
    home, summary, before, after = second_run
    assert json.loads(mediarecon("status", "--home", home, "--format", "json"))["runs"][0]["status"] == "succeeded"
    assert summary["files_processed"] == 0
    # Chorus Pro: only the overlap window is asked again, and its statuses are already known
    assert summary["chorus_pro"]["invoices"] < first_summary_invoices(home)
    assert after == before
    # nothing new (the overlap page only repeats known statuses), same vars and dbt project: the
    # published warehouse and data dictionary are kept, not rebuilt (~15 s of dbt a night)
    runs = json.loads(mediarecon("status", "--home", home, "--format", "json"))["runs"]
    assert runs[0]["warehouse_kept_from"] == runs[1]["run_id"]
    assert summary["timings"]["dbt_build_s"] < 1 and summary["timings"]["docs_s"] < 1
    assert (home / "exports" / "docs" / "fingerprint.txt").is_file()


def first_summary_invoices(home) -> int:
    runs = json.loads(mediarecon("status", "--home", home, "--format", "json"))["runs"]
    return runs[-1]["summary"]["chorus_pro"]["invoices"]


def test_invoice_marts(first_run, state_year):
    home, summary, _ = first_run
    invoices = json.loads((state_year / "chorus" / "invoices.json").read_text(encoding="utf-8"))["invoices"]
    assert summary["chorus_pro"]["invoices"] == len(invoices)
    rows = query_json(home, "select count(*) as n, count(distinct supplier_invoice_key) as k,"
                            " sum(case when is_paid then 1 else 0 end) as paid from fct_invoice_payments")[0]
    assert rows["n"] == len(invoices)
    # an invoice deposited twice under its number is two Chorus Pro invoices with one key
    assert rows["k"] == len({(inv["codeFournisseur"], inv["numeroFacture"]) for inv in invoices})
    assert rows["paid"] == sum(inv["statut"] == "MISE_EN_PAIEMENT" for inv in invoices)
    events = query_json(home, "select count(*) as n from fct_invoice_status_history")[0]["n"]
    assert events == sum(len(inv["historique"]) for inv in invoices)
    linked = query_json(home, "select count(*) as n from fct_invoice_payments where has_known_order")[0]["n"]
    assert linked == sum(1 for inv in invoices if inv["numeroBonCommande"] not in ("", "2599999999"))


def test_broken_file_is_rejected_and_the_run_goes_on(broken_run):
    home, summary, before, after = broken_run
    assert (summary["files_processed"], summary["files_rejected"], summary["rows_quarantined"]) == (2, 1, 2)
    assert after == before  # the bad régie rows matched no order line; findings unchanged
    status = mediarecon("status", "--home", home)
    assert "[rejected] ad_server/export_tronque.csv: export_tronque.csv: no 'Report Fields' line" in status
    assert "[partial] regie_reports/bilan_errone.csv: 2 row(s) quarantined" in status
    doc = json.loads(mediarecon("status", "--home", home, "--format", "json"))
    assert [r["status"] for r in doc["runs"]] == ["succeeded"] * 3
    q = duckdb.sql(f"select line, column_name, rule, value from read_parquet('{home}/quarantine/regie_reports/*.parquet')"
                   " order by line").fetchall()
    assert q[0] == (3, "delivery_date", "real_calendar_date(fmt=%d/%m/%Y)", "32/03/2025")
    assert (4, "delivered_quantity", "coerce_dtype('Int64')", "deux") in q


def test_reader_keeps_old_data_while_a_run_publishes(state_year, tmp_path):
    home = copy_inbox(state_year, tmp_path, skip=("forbidden_campaigns",))
    run(home)
    published = home / "warehouse" / "mediarecon.duckdb"
    sql = "select count(*) from fct_findings where finding_type = 'forbidden_campaign_delivery'"
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(published)!r}, read_only=True)
            print(con.execute({sql!r}).fetchone()[0], flush=True)
            sys.stdin.readline()
            print(con.execute({sql!r}).fetchone()[0], flush=True)
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "0"
        copy_inbox(state_year, home)  # the forbidden list arrives
        run(home)  # publishes while the reader holds the old file open
        out, _ = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    assert out.strip() == "0"  # the reader still sees its snapshot
    assert query_json(home, sql)[0]["count_star()"] == 2  # a new connection sees the new data
    assert (home / "warehouse" / "mediarecon.prev.duckdb").exists()


def test_bad_setting_is_refused_before_anything_runs(first_run, monkeypatch):
    home, _, _ = first_run
    monkeypatch.setenv("MEDIARECON_UNDER_DELIVERY_TOLERANCE_PCT", "150")
    result = cli.invoke(app, ["run", "--home", str(home)])  # refused before Prefect starts
    assert result.exit_code == 2
    assert "MEDIARECON_UNDER_DELIVERY_TOLERANCE_PCT='150' must be between 0 and 100" in result.output


def test_failed_build_leaves_the_published_warehouse_untouched(first_run, tmp_path, alert_receivers):
    source_home, _, before = first_run
    home = tmp_path / "home"
    shutil.copytree(source_home, home)
    published = home / "warehouse" / "mediarecon.duckdb"
    inode = published.stat().st_ino
    # validated Parquet damaged on disk: dbt cannot read the source, the build fails
    (home / "validated" / "ad_server" / "zz-damaged.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(Exception, match="zz-damaged.parquet"):
        run(home)
    assert published.stat().st_ino == inode and marts(home) == before
    last = json.loads(mediarecon("status", "--home", home, "--format", "json"))["runs"][0]
    assert last["status"] == "failed" and "zz-damaged.parquet" in last["message"]
    # the failed run leaves its markdown artifact in Prefect too: why it stopped, what it had received
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["nightly-reconciliation-summary"])))
    (failed_md,) = [a.data for a in artifacts if f"`{last['run_id']}`: FAILED" in (a.data or "")]
    assert "zz-damaged.parquet" in failed_md and "| ad_server |" in failed_md
    # the people on call hear of it the same night, once
    smtp, _ = alert_receivers
    failed = [m for _, m in smtp.messages if "Échec du traitement de nuit" in m["subject"]]
    assert len(failed) == 1
    assert "zz-damaged.parquet" in failed[0].get_body(("plain",)).get_content()


def chorus_records(state_year) -> list[dict]:
    return json.loads((state_year / "chorus" / "invoices.json").read_text(encoding="utf-8"))["invoices"]


def test_same_invoice_from_chorus_and_the_inbox_counts_once(first_run, state_year):
    home, _, _ = first_run
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        broken = {r["entity_key"].split("|")[1] for r in csv.DictReader(f)
                  if r["anomaly_type"] == "invoice_arithmetic_error"}
    copies = sorted(p.stem for p in (state_year / "inbox" / "einvoices").rglob("*.pdf") if p.stem not in broken)
    assert copies
    records = {r["numeroFacture"]: r for r in chorus_records(state_year) if r["typeFacture"] == "FACTURE"}
    for number in copies:
        rows = query_json(home, "select invoice_key, copies_received, received_via, sum(net_ht_eur) as net"
                                f" from fct_invoice_lines where invoice_number = '{number}' and not is_duplicate"
                                " group by all")
        assert len(rows) == 1, number  # one invoice, two copies: Chorus Pro's and the e-mailed Factur-X
        assert (rows[0]["copies_received"], rows[0]["received_via"]) == (2, "chorus_pro"), number
        assert Decimal(str(rows[0]["net"])) == Decimal(records[number]["montantHT"]), number


def test_export_rows_of_invoices_known_as_e_invoices_are_not_counted_again(first_run, state_year):
    home, _, _ = first_run
    exports = sorted((state_year / "inbox" / "invoice_exports").iterdir())
    assert {p.suffix for p in exports} == {".xlsx", ".csv"}
    status = json.loads(mediarecon("status", "--home", home, "--format", "json"))
    received = [f for f in status["files_by_source"] if f["source"] == "invoice_exports"]
    assert [(f["status"], f["files"]) for f in received] == [("validated", 2)]
    assert query_json(home, "select count(*) as n from fct_invoice_lines where received_via = 'export'")[0]["n"] == 0
    # read here, not through `mediarecon query`: the auditor's path cannot read validated/ (#13)
    exported = duckdb.sql(f"select count(*) from read_parquet('{home}/validated/invoice_exports/*.parquet')").fetchone()[0]
    assert exported > 0


def test_credit_notes_are_negative_and_credited_on_their_order_lines(first_run, state_year):
    home, _, _ = first_run
    avoirs = [r for r in chorus_records(state_year) if r["typeFacture"] == "AVOIR"]
    assert avoirs
    lines = query_json(home, "select type_code, preceding_invoices, sum(signed_net_ht_eur) as signed,"
                             " count(order_line_id) as matched, count(*) as n from fct_invoice_lines"
                             " where is_credit_note group by all")
    assert {r["type_code"] for r in lines} == {"381"} and all(r["preceding_invoices"] for r in lines)
    total = sum(Decimal(a["montantHT"]) for a in avoirs)
    assert sum(Decimal(str(r["signed"])) for r in lines) == -total
    assert all(r["matched"] == r["n"] for r in lines)
    credited = query_json(home, "select sum(credited_net_ht_eur) as c from fct_order_line_delivery")[0]["c"]
    assert Decimal(str(credited)) == total


def test_arithmetic_errors_are_quarantined_naming_the_rule(first_run, state_year):
    home, _, _ = first_run
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        broken = {r["entity_key"]: r for r in csv.DictReader(f) if r["anomaly_type"] == "invoice_arithmetic_error"}
    rows = duckdb.sql(f"select distinct supplier_id || '|' || invoice_number, rule, column_name,"
                      f" abs(expected_eur - stated_eur) from read_parquet('{home}/quarantine/einvoices/*.parquet')"
                      " where rule <> 'unreadable'").fetchall()
    assert {(k, rule, term) for k, rule, term, _ in rows} == {(k, "BR-CO-10", "BT-106") for k in broken}
    assert {k: str(amount) for k, _, _, amount in rows} == {k: r["amount_at_stake_eur"] for k, r in broken.items()}
    # their order lines are not counted as invoiced: the quarantined document is the only one
    status = mediarecon("status", "--home", home)
    assert "chorus_pro_documents/" in status and "BR-CO-10" in status


def test_nothing_the_auditor_runs_writes_anything(first_run, tmp_path):
    home, _, _ = first_run
    before = tree_state(home)
    names = [line.split()[0] for line in mediarecon("audit", "--home", home).splitlines()]
    assert names == ["biggest_breaks", "fees_above_schedule", "findings_by_seller", "late_payments",
                     "missing_rebates"]
    for name in names:
        for fmt in ("table", "csv", "json"):
            mediarecon("audit", name, "--home", home, "--format", fmt)
        mediarecon("audit", name, "--home", home, "--format", "xlsx", "--out", tmp_path / f"{name}.xlsx")
    late = json.loads(mediarecon("audit", "late_payments", "--home", home, "--format", "json"))
    assert {r["supplier_invoice_key"] for r in late} == {
        f["entity_key"] for f in query_json(home, "select entity_key from fct_findings where finding_type = 'late_payment'")}
    escape = tmp_path / "escape.csv"
    for sql in ["drop table fct_findings", "delete from fct_findings", "create table t as select 1",
                "insert into fct_findings select * from fct_findings", f"copy fct_findings to '{escape}'",
                f"attach '{tmp_path / 'other.duckdb'}' as other", "checkpoint", "set threads = 1",
                "call dbgen(sf = 0.01)", "select 1; drop table fct_findings"]:
        result = cli.invoke(app, ["query", "--home", str(home), sql])
        assert result.exit_code == 1 and "read-only" in result.output, sql
    mediarecon("query", "--home", home, "--format", "xlsx", "--out", tmp_path / "q.xlsx", "select * from fct_findings")
    mediarecon("status", "--home", home)
    assert not escape.exists() and not (tmp_path / "other.duckdb").exists()
    assert tree_state(home) == before


def test_results_are_filled_wherever_the_reports_carry_them_and_misses_name_their_cause(first_run, state_year):
    """CPA, conversion rate and ROAS exist for exactly the campaigns whose CM360 reports carry Floodlight
    columns, CPA and ROAS also for those whose régie declares conversions in its bilans (source regie),
    video completion for those with video plays (read from the files as sent); a labelled miss names
    the cause the generator built it on (a delivery drop, a planned pause, a CPC raised mid-flight)."""
    home, _, _ = first_run
    with_conversions, with_plays = set(), set()
    for path in sorted((state_year / "inbox" / "ad_server").glob("*.csv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for r in csv.DictReader(lines[lines.index("Report Fields") + 1:]):
            if not r["Placement ID"] or not r["Placement External ID"]:  # the totals row, delivery without order
                continue
            if "Total Conversions" in r:
                with_conversions.add(r["Campaign External ID"])
                if int(r["Video Plays"]):
                    with_plays.add(r["Campaign External ID"])
    assert with_conversions and with_plays
    # the lines whose régie declares conversions in its bilans (no ad-server count for these offline lines)
    regie_lines = set()
    for path in sorted((state_year / "inbox" / "regie_reports").glob("*.csv")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # radio and press régies send Windows-1252
            text = path.read_text(encoding="cp1252")
        rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
        regie_lines |= {r["Référence ordre"] for r in rows if r.get("Conversions")}
    assert regie_lines
    regie_campaigns = {r["campaign_id"] for r in query_json(
        home, "select distinct campaign_id from fct_order_line_delivery where order_line_id in ("
              + ", ".join(f"'{x}'" for x in sorted(regie_lines)) + ")")}
    kpis = query_json(home, "select campaign_id, max(cpa_eur) as cpa, max(roas) as roas, max(conversion_rate) as rate,"
                            " max(video_completion_rate) as completion, max(conversions_source) as source"
                            " from fct_campaign_kpis group by 1")
    assert {k["campaign_id"] for k in kpis if k["cpa"] is not None} == with_conversions | regie_campaigns
    assert {k["campaign_id"] for k in kpis if k["roas"] is not None} == with_conversions | regie_campaigns
    assert {k["campaign_id"] for k in kpis if k["rate"] is not None} == with_conversions  # a bilan has no clicks
    assert {k["campaign_id"] for k in kpis if k["completion"] is not None} == with_plays
    assert {k["campaign_id"] for k in kpis if k["source"] == "regie"} == regie_campaigns
    # a CPA objective only a régie measures is judged on its declaration: the labelled miss and a met one
    judged = query_json(home, "select order_line_id, status from fct_campaign_objectives"
                              " where achieved_source = 'regie' and indicator = 'cpa_max'")
    assert {j["order_line_id"] for j in judged} <= regie_lines
    assert {j["status"] for j in judged} == {"met", "missed"}
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        caused = {r["entity_key"]: r["note"].split("cause: ")[1] for r in csv.DictReader(f)
                  if r["anomaly_type"] == "objective_missed" and "cause: " in r["note"]}
    assert set(caused.values()) == {"delivery_drop", "planned_pause", "cpc_change"}
    found = {r["objective_key"]: r["likely_cause"] for r in query_json(
        home, "select objective_key, likely_cause from fct_campaign_objectives where status = 'missed'")}
    assert {k: found[k] for k in caused} == caused


def test_the_statement_deducts_the_current_refactions_of_the_decisions_as_sent(first_run, state_year):
    """The advertisers' decisions file as generated: each order's last decision is its current one; a
    réfaction's amount is deducted once, in the month the order ends, and an ajournement it superseded is
    kept in fct_admission_decisions with who and when."""
    home, _, _ = first_run
    with open(next((state_year / "inbox" / "admission_decisions").glob("*.csv")), encoding="utf-8") as f:
        sent = list(csv.DictReader(f, delimiter=";"))
    last = {}
    for r in sorted(sent, key=lambda r: r["Décidé le"]):
        last[r["N° BDC"]] = r
    refactions = {po: Decimal(r["Montant réfaction"].replace(",", ".")) for po, r in last.items()
                  if r["Décision"] == "réfaction"}
    assert refactions and any(r["Décision"] == "ajournement" for r in sent)
    rows = query_json(home, "select purchase_order_id, sum(reduction_deducted_eur) as deducted,"
                            " count(reductions_applied) as applied from rpt_monthly_execution_statement"
                            " where reduction_deducted_eur <> 0 group by 1")
    assert {r["purchase_order_id"]: Decimal(r["deducted"]) for r in rows} == refactions
    assert all(r["applied"] == 1 for r in rows)
    history = query_json(home, "select purchase_order_id, decision, is_current, decided_by from fct_admission_decisions"
                               " where decision = 'ajournement'")
    assert history and all(not h["is_current"] and h["decided_by"].startswith("Service communication") for h in history)
    assert len(query_json(home, "select * from fct_admission_decisions")) == len(sent)


def test_report_campaign_writes_the_decree_report_of_every_digital_campaign(first_run, state_year, tmp_path):
    """Every digital campaign of the year gets the decree's report, its sections in the decree's order, each
    filled or marked non fourni with its source; a campaign with a labelled brand-safety breach shows it in
    section 3 with the euros of its label; PDF too; an unknown campaign is refused (exit 2)."""
    from openpyxl import load_workbook

    from mediarecon.exports import campaign_report
    from mediarecon.warehouse.reader import open_reader
    from mediarecon.settings import Settings
    from mediarecon.web.scope import Scope

    home, _, _ = first_run
    settings = Settings.from_env(home)
    everything = Scope(None)
    with open_reader(settings.home, settings.reader) as reader:
        def query(template, params):
            sql = everything.sql(template)
            cur = reader.execute(sql, everything.params(sql, params))
            return [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]

        digital = [r[0] for r in reader.execute(
            "select distinct campaign_id from fct_order_line_delivery where media_type in"
            " ('digital_display', 'digital_video', 'social', 'search') order by 1").fetchall()]
        reports_ = {c: campaign_report.build(query, c) for c in digital}
    assert len(digital) >= 5
    order = ["1° a)", "1° b)", "1° c)", "1° d)", "1° e)", "2° a)", "2° b)", "2° c)", "3°", "4°"]
    for c, report in reports_.items():
        assert [s.number for s in report.sections] == order, c
        for s in report.sections:
            assert all(t.rows or t.empty for t in s.tables) and (s.tables or s.missing), (c, s.number)
            assert all(" — source : " in m and "non fourni" in m for m in s.missing), (c, s.number)
        assert report.sections[0].tables[0].rows, c  # sites: every digital campaign delivered somewhere
        assert any(r[2] for r in report.sections[2].tables[0].rows), c  # formats from the reports' pixel sizes
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        breaches = [r for r in csv.DictReader(f) if r["anomaly_type"] == "brand_safety_breach"]
    for label in breaches:
        campaign, site = label["entity_key"].split("|")
        shown = reports_[campaign].sections[8].tables[1].rows
        assert (site, dt.date.fromisoformat(label["first_date"]), dt.date.fromisoformat(label["last_date"]),
                Decimal(label["amount_at_stake_eur"])) in shown
        assert reports_[campaign].sections[8].tables[0].rows  # its advertiser's exclusion list is shown

    campaign = breaches[0]["entity_key"].split("|")[0]
    out = mediarecon("report", "campaign", "--home", home, "--campaign", campaign, "--out", tmp_path / "b.xlsx")
    assert "non fourni" in out
    book = load_workbook(tmp_path / "b.xlsx")
    assert book.sheetnames[:4] == ["État", "1a Univers de diffusion", "1b Messages", "1c Formats"]
    assert [r[0] for r in book["État"].iter_rows(min_row=4, values_only=True) if r[0]][-1] == "4°"
    mediarecon("report", "campaign", "--home", home, "--campaign", campaign, "--format", "pdf",
               "--out", tmp_path / "b.pdf")
    assert (tmp_path / "b.pdf").read_bytes()[:5] == b"%PDF-"
    refused = cli.invoke(app, ["report", "campaign", "--home", str(home), "--campaign", "CMP-1999-0001"])
    assert refused.exit_code == 2 and "no order line" in refused.output
