"""The e-invoice step: landed documents -> validated tables or quarantine, copies recognised by their
fingerprints, ZIP batches from Chorus Pro tied to their invoice ids."""

import datetime as dt
import io
import zipfile
from decimal import Decimal

import duckdb

from connectors.einvoice import parse_bytes
from mediarecon.ingest import einvoices
from mediarecon.state.home import Home
from simulators.einvoice_documents import DocLine, Document, render
from tests.unit.connectors.test_einvoice import FIXTURES

NOW = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)


def media_invoice(number="TF1-2025-00001", **kw) -> Document:
    # 12 spots at 10 000.00 list = 120 000.00; volume 10 % = 12 000.00; cumul 2 % of the rest = 2 160.00
    line = DocLine("1", "3", "Campagne - tv", Decimal(12), Decimal("10000.00"), Decimal(1),
                   [("Remise dégressif", "95", Decimal("12000.00")), ("Cumul des mandats", "102", Decimal("2160.00"))])
    fields = dict(number=number, type_code="380", issue_date=dt.date(2025, 4, 2), seller_siret="32912075500030",
                  seller_name="TF1 Publicité", buyer_siret="11000201100044", buyer_name="SIG",
                  buyer_reference="SIG-COM", order_reference="2500000007", lines=[line])
    return Document(**{**fields, **kw})


def test_hand_made_ubl_with_a_br_co_10_error_is_quarantined_with_the_rule_and_amounts():
    text = (FIXTURES / "ubl" / "ubl-tc434-example1.xml").read_text(encoding="utf-8")
    broken = text.replace(">19.90</cbc:LineExtensionAmount>", ">29.90</cbc:LineExtensionAmount>", 1).encode()
    parsed = einvoices.parse_file(broken, "f" * 64, "facture.xml", "einvoices", NOW)
    assert parsed.documents == [] and parsed.lines == []
    (q,) = parsed.quarantine
    assert (q["rule"], q["column_name"], q["expected_eur"], q["stated_eur"], q["invoice_number"]) == (
        "BR-CO-10", "BT-106", Decimal("239.60"), Decimal("229.60"), "12115118")
    assert q["value"] == "sum of line net amounts = line extension amount: expected 239.60, stated 229.60"
    outcome = einvoices.outcome("einvoices", "f" * 64, "facture.xml", parsed)
    assert outcome.status == "rejected" and "BR-CO-10" in outcome.reason and "12115118" in outcome.reason


def test_media_invoice_waterfall_is_read_line_by_line():
    parsed = einvoices.parse_file(render(media_invoice(), "cii"), "a" * 64, "f.xml", "einvoices", NOW)
    (doc,) = parsed.documents
    assert (doc["supplier_id"], doc["invoice_number"], doc["tax_exclusive_eur"], doc["payable_eur"]) == (
        "32912075500030", "TF1-2025-00001", Decimal("105840.00"), Decimal("127008.00"))
    (line,) = parsed.lines
    assert (line["order_line_reference"], line["quantity"], line["net_price_eur"], line["net_amount_eur"]) == (
        "3", Decimal("12.0000"), Decimal("10000.000000"), Decimal("105840.00"))
    assert sorted((a["reason"], a["amount_eur"]) for a in parsed.allowances) == [
        ("Cumul des mandats", Decimal("2160.00")), ("Remise dégressif", Decimal("12000.00"))]


def test_the_same_invoice_in_three_syntaxes_has_one_fingerprint_and_a_renumbered_copy_shares_its_content():
    fps = {einvoices.fingerprints(parse_bytes(render(media_invoice(), s))) for s in ("ubl", "cii", "facturx")}
    assert len(fps) == 1
    (document_fp, content_fp), = fps
    renumbered = einvoices.fingerprints(parse_bytes(render(
        media_invoice("TF1-2025-00002", issue_date=dt.date(2025, 5, 2)), "ubl")))
    assert renumbered[0] != document_fp and renumbered[1] == content_fp


def test_chorus_zip_batch_members_carry_their_invoice_id_and_a_bad_one_is_quarantined(tmp_path):
    buf = io.BytesIO()
    bad = media_invoice("TF1-2025-00009", stated_line_extension=Decimal("106000.00"))
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("1000001.xml", render(media_invoice(), "ubl"))
        z.writestr("1000002.pdf", render(bad, "facturx"))
    home = Home(tmp_path)
    parsed = einvoices.parse_file(buf.getvalue(), "b" * 64, "documents 1000001..1000002.zip",
                                  "chorus_pro_documents", NOW)
    einvoices.write(home, "b" * 64, parsed)
    assert [(d["chorus_invoice_id"], d["received_via"]) for d in parsed.documents] == [(1000001, "chorus_pro")]
    outcome = einvoices.outcome("chorus_pro_documents", "b" * 64, "documents 1000001..1000002.zip", parsed)
    assert (outcome.status, outcome.rows_read, outcome.rows_valid, outcome.rows_quarantined) == ("partial", 2, 1, 1)
    rows = duckdb.sql(f"select document_name, rule, expected_eur, stated_eur, buyer_siret from "
                      f"read_parquet('{tmp_path}/quarantine/einvoices/*.parquet')").fetchall()
    # the buyer says whose finding the refused document is
    assert rows == [("documents 1000001..1000002.zip!1000002.pdf", "BR-CO-10", Decimal("105840.00"),
                     Decimal("106000.00"), "11000201100044")]
    assert einvoices.chorus_invoice_id("documents 1000005..1000005.xml", "documents 1000005..1000005.xml") == 1000005


def test_unreadable_document_is_quarantined_not_lost():
    parsed = einvoices.parse_file(b"<html>not an invoice</html>", "c" * 64, "scan.xml", "einvoices", NOW)
    (q,) = parsed.quarantine
    assert q["rule"] == "unreadable" and "neither a UBL Invoice/CreditNote nor a CII invoice" in q["value"]


def test_documents_parsed_in_worker_processes_are_those_parsed_in_threads(tmp_path, monkeypatch):
    """Past PROCESS_FROM_BYTES the parse runs in worker processes: the same outcomes, in the same order,
    and the same Parquet, as in threads (the real EN 16931 invoices, a ZIP batch with a BR-CO-10 error, a
    file that is no invoice)."""
    import shutil

    from connectors.landing_store import LocalLandingStore
    from mediarecon import workers
    from mediarecon.ingest.sources import INBOX_FOLDERS, LANDED_ONLY
    from mediarecon.ingest.tabular import land_source
    from mediarecon.settings import Settings
    from mediarecon.state.manifest import Manifest

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("1000001.xml", render(media_invoice(), "ubl"))
        z.writestr("1000002.pdf", render(media_invoice("TF1-2025-00009", stated_line_extension=Decimal("106000.00")),
                                         "facturx"))
    pools = []
    monkeypatch.setattr(workers, "process_pool", lambda n, pool=workers.process_pool: pools.append(n) or pool(n))

    def parse(folder: str, from_bytes: int):
        home = Settings.from_env(tmp_path / folder).home.ensure(INBOX_FOLDERS)
        shutil.copytree(FIXTURES, home.inbox / "einvoices", dirs_exist_ok=True)
        (home.inbox / "einvoices" / "batch.xml").write_bytes(buf.getvalue())  # a ZIP, whatever its name says
        (home.inbox / "einvoices" / "scan.xml").write_bytes(b"<html>not an invoice</html>")
        manifest, store = Manifest(home.manifest), LocalLandingStore(home.landing)
        land_source(home, LANDED_ONLY["einvoices"], store, manifest, "r1")
        monkeypatch.setattr(einvoices, "PROCESS_FROM_BYTES", from_bytes)
        outcomes = einvoices.parse_landed(home, "einvoices", manifest, store, "r1")
        tables = {t: duckdb.sql(f"select * exclude (_received_at) from read_parquet('{home.validated / t}/*.parquet')"
                                f" order by all").fetchall() for t in einvoices.TABLES}
        rules = duckdb.sql(f"select document_name, rule from read_parquet('{home.quarantine}/einvoices/*.parquet')"
                           " order by all").fetchall()
        return [(o.file_name, o.status, o.reason, o.rows_read, o.rows_valid) for o in outcomes], tables, rules

    in_threads = parse("threads", 10**12)
    assert pools == []
    in_processes = parse("processes", 0)
    assert pools == [einvoices.PARSE_PROCESSES] and einvoices.PARSE_PROCESSES >= 2
    assert in_processes == in_threads
    outcomes, tables, rules = in_processes
    assert len(outcomes) >= 10 and ("batch.xml", "partial") in [o[:2] for o in outcomes]
    assert ("batch.xml!1000002.pdf", "BR-CO-10") in rules and ("scan.xml", "unreadable") in rules
