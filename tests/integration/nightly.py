"""Helpers of the nightly tests: the CLI in-process, the real flow, the marts as a user reads them."""

import csv
import json
import math
from decimal import Decimal

import duckdb
import pytest
from typer.testing import CliRunner

from mediarecon.cli import app
from mediarecon.flows.nightly_reconciliation import nightly_reconciliation
from mediarecon.paths import read_seed
from mediarecon.vocabulary import finding_types

cli = CliRunner()

ON_CALL = "astreinte@sig.gouv.fr"
FIRST_RUN_BUSINESS: dict = {}  # every mart of the first, uninterrupted run, lineage aside


def advertiser_email(advertiser_id: str) -> str:
    return f"{advertiser_id.lower()}@annonceurs.test"


def mediarecon(*args) -> str:
    result = cli.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def run(home) -> dict:
    """The real flow, in-process (the CLI's `run` is smoke-tested as a subprocess in test_cli.py)."""
    return nightly_reconciliation(home=str(home))


def query_json(home, sql):
    return json.loads(mediarecon("query", "--home", home, "--format", "json", sql))


def marts(home):
    con = duckdb.connect(str(home / "warehouse" / "mediarecon.duckdb"), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall()
                for t in ("fct_findings", "fct_order_line_delivery")}
    finally:
        con.close()


def all_marts(path) -> dict:
    from mediarecon.warehouse.publish import mart_tables

    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in mart_tables(con)}
    finally:
        con.close()

# the document named in an evidence file goes with that file (the lowest sha256 of the copies)
LINEAGE = ("source_file_sha256", "source_line", "source_document_name", "evidence_file_sha256", "evidence_line",
           "evidence_document_name")


def business_marts(path) -> dict:
    """Every mart without its lineage columns. Lineage names the received file a row was read from:
    a Chorus Pro answer or ZIP fetched at another moment has other bytes (timestamps, window), and
    of two copies of one invoice the first received is the evidence; the values must not differ."""
    from mediarecon.warehouse.publish import mart_tables

    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for t in mart_tables(con):
            drop = [c[0] for c in con.execute(f"describe {t}").fetchall() if c[0] in LINEAGE]
            select = f"select * exclude ({', '.join(drop)})" if drop else "select *"
            out[t] = con.execute(f"{select} from {t} order by all").fetchall()
        return out
    finally:
        con.close()


def marts_of(path, lineage: bool = True) -> dict[str, tuple[list, list]]:
    """Every mart of a warehouse file: its columns with their types, and its rows in a stable order (the
    doubles last in the sort key, so that a last-digit difference cannot reorder rows)."""
    from mediarecon.warehouse.publish import mart_tables

    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for t in mart_tables(con):
            columns = [(c[0], c[1]) for c in con.execute(f'describe "{t}"').fetchall()
                       if lineage or c[0] not in LINEAGE]
            names = [f'"{c}"' for c, _ in columns]
            key = [n for n, (_, type_) in zip(names, columns) if type_ != "DOUBLE"]
            key += [n for n, (_, type_) in zip(names, columns) if type_ == "DOUBLE"]
            out[t] = (columns, con.execute(f'select {", ".join(names)} from "{t}" order by {", ".join(key)}').fetchall())
        return out
    finally:
        con.close()


def assert_same_marts(expected_path, actual_path, lineage: bool = True) -> None:
    """Same marts, columns, types and rows; decimals (money) exactly, doubles within 1e-9 relative."""
    expected, actual = marts_of(expected_path, lineage), marts_of(actual_path, lineage)
    assert expected, f"no mart in {expected_path}"
    assert sorted(actual) == sorted(expected)
    for table, (columns, rows) in expected.items():
        assert actual[table][0] == columns, table
        assert len(actual[table][1]) == len(rows), table
        for n, (want, got) in enumerate(zip(rows, actual[table][1])):
            for (column, type_), w, g in zip(columns, want, got):
                if type_ == "DOUBLE" and w is not None and g is not None:
                    assert math.isclose(g, w, rel_tol=1e-9), (table, n, column, w, g)
                else:
                    assert g == w, (table, n, column, w, g)


# Types whose amount the generator knows exactly as the warehouse computes it.
EXACT_AMOUNT_TYPES = {"under_delivery", "delivery_without_order", "forbidden_campaign_delivery",
                      "invoice_without_order", "over_invoiced", "invoiced_not_delivered", "duplicate_invoice",
                      "missing_discount", "invoice_arithmetic_error", "late_payment",
                      "missing_deferred_rebate", "ceiling_threshold_crossed", "fee_on_gross", "wrong_fee_rate",
                      "late_delivery_penalty_due", "objective_missed", "brand_safety_breach",
                      "invoiced_before_admission", "paid_after_rejection"}
# Types whose amount is left for a later rule.
NO_AMOUNT_TYPES = {"invoice_blocked", "epm_miss"}


def assert_labelled_anomalies_found(home, summary: dict, state_year) -> None:
    """Every labelled anomaly of the generated year is a finding, with its dates and amount, and nothing else."""
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        labels = {(r["anomaly_type"], r["entity_key"]): r for r in csv.DictReader(f)}
    findings = {(r["finding_type"], r["entity_key"]): r
                for r in query_json(home, "select * from fct_findings")}
    assert {t for t, _ in labels} == set(finding_types())
    assert set(findings) == set(labels)
    for key, label in labels.items():
        found = findings[key]
        assert (found["first_date"], found["last_date"]) == (label["first_date"], label["last_date"]), key
        if key[0] in NO_AMOUNT_TYPES:
            assert found["amount_at_stake_eur"] is None and label["amount_at_stake_eur"] == "", key
        elif key[0] in EXACT_AMOUNT_TYPES:
            assert Decimal(found["amount_at_stake_eur"]) == Decimal(label["amount_at_stake_eur"]), key
        else:  # drops are valued against a 4-week median of noisy days, the generator against its plan
            assert Decimal(found["amount_at_stake_eur"]) == pytest.approx(
                Decimal(label["amount_at_stake_eur"]), rel=Decimal("0.25")), key
    label_counts = {t: sum(1 for lt, _ in labels if lt == t) for t in finding_types()}
    assert {t: v["count"] for t, v in summary["findings"].items()} == label_counts


# How each finding type knows its advertiser in the files as sent (fct_findings.advertiser_id says the same).
ADVERTISER_OF = {
    "order_line": {"under_delivery", "over_invoiced", "invoiced_not_delivered", "missing_discount"},
    "order_line_indicator": {"objective_missed"},
    "purchase_order": {"fee_on_gross", "wrong_fee_rate", "late_delivery_penalty_due", "invoiced_before_admission",
                       "paid_after_rejection"},
    "campaign": {"delivery_drop", "email_deliverability_drop", "forbidden_campaign_delivery", "brand_safety_breach"},
    "placement": {"delivery_without_order"},
    "key": {"missing_deferred_rebate"},
    "invoice": {"invoice_without_order", "invoice_blocked", "late_payment", "duplicate_invoice",
                "invoice_arithmetic_error"},
    "none": {"ceiling_threshold_crossed", "epm_miss"},  # contract-wide: the coordinator's and the auditor's
}


def _csv_rows(folder, encoding: str, delimiter: str = ";"):
    for path in sorted(folder.glob("*.csv")):
        with open(path, encoding=encoding, newline="") as f:
            yield from csv.DictReader(f, delimiter=delimiter)


def campaign_advertisers(state_year) -> dict[str, str]:
    """campaign -> advertiser id, from the agency's purchase orders as sent and the seed (not the warehouse)."""
    by_siret = {a["siret"]: a["advertiser_id"] for a in read_seed("advertisers")}
    return {r["Campagne"]: by_siret[r["SIRET annonceur"]]
            for r in _csv_rows(state_year / "inbox" / "purchase_orders", "utf-8-sig")}


def labelled_advertisers(state_year) -> dict[tuple[str, str], str | None]:
    """(anomaly type, entity key) -> whose it is, for every labelled anomaly, read from the generated files
    and the seed (not the warehouse): an order line's or order's from the agency's purchase orders, a
    placement's from the campaign its ad-server rows name, an invoice's from Chorus Pro's recipient
    (codeDestinataire), a rebate's from its key; none for a contract-wide type."""
    assert set().union(*ADVERTISER_OF.values()) == set(finding_types())
    inbox = state_year / "inbox"
    by_siret = {a["siret"]: a["advertiser_id"] for a in read_seed("advertisers")}
    of_order = {r["N° BDC"]: by_siret[r["SIRET annonceur"]] for r in _csv_rows(inbox / "purchase_orders", "utf-8-sig")}
    of_line = {f"{r['N° BDC']}-{int(r['N° ligne']):03d}": of_order[r["N° BDC"]]
               for r in _csv_rows(inbox / "order_lines", "cp1252")}
    of_campaign = campaign_advertisers(state_year)
    campaign_of_placement = {}
    for path in sorted((inbox / "ad_server").glob("*.csv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for r in csv.DictReader(lines[lines.index("Report Fields") + 1:]):
            if r["Placement ID"]:  # not the totals row
                campaign_of_placement[r["Placement ID"]] = r["Campaign External ID"]
    invoices = json.loads((state_year / "chorus" / "invoices.json").read_text(encoding="utf-8"))["invoices"]
    of_invoice = {f"{i['codeFournisseur']}|{i['numeroFacture']}": by_siret[i["codeDestinataire"]] for i in invoices}
    whose = {
        "order_line": of_line.__getitem__,
        "order_line_indicator": lambda key: of_line[key.split("|")[0]],
        "purchase_order": of_order.__getitem__,
        "campaign": lambda key: of_campaign[key.split("|")[0]],
        "placement": lambda key: of_campaign[campaign_of_placement[key]],
        "key": lambda key: key.split("|")[0],
        "invoice": of_invoice.__getitem__,
        "none": lambda key: None,
    }
    how = {t: way for way, types in ADVERTISER_OF.items() for t in types}
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        return {(r["anomaly_type"], r["entity_key"]): whose[how[r["anomaly_type"]]](r["entity_key"])
                for r in csv.DictReader(f)}


def dbt_results(home) -> dict[str, str]:
    """unique_id -> status of every node of the home's last dbt build (runs/dbt/target/run_results.json)."""
    results = json.loads((home / "runs" / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8"))
    return {r["unique_id"]: r["status"] for r in results["results"]}


def project_unit_tests() -> set[str]:
    """The names of the dbt project's unit tests, read from its YAML files (not from dbt)."""
    import yaml

    from mediarecon.paths import DBT_PROJECT_DIR

    names = set()
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        names |= {t["name"] for t in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", [])}
    return names
