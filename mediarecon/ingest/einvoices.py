"""The e-invoice step: every landed e-invoice document (Chorus Pro downloads, ZIP batches included, and
copies dropped in `inbox/einvoices/`) is parsed once, checked against EN 16931, and written as three
validated tables: documents, lines, allowances/charges. A document that fails a rule goes to quarantine
naming the rule and the amounts; the landed file is kept whatever happens.

Two fingerprints let the warehouse recognise copies: `document_fingerprint` (supplier, number, date,
amounts and lines: the same invoice whatever its syntax or path) and `content_fingerprint` (the same
without number and date: an invoice re-sent under a new number).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from connectors.einvoice import EInvoice, EInvoiceError, check_totals, parse_bytes
from connectors.landing_store import LandingStore
from mediarecon import drills, workers
from mediarecon.ingest.parquet import DOCUMENT_LINEAGE, MONEY, quarantine_table, write_parquet
from mediarecon.ingest.outcomes import FileOutcome
from mediarecon.state.manifest import Manifest
from mediarecon.state.home import Home

DOCUMENT_SOURCES = ("chorus_pro_documents", "einvoices")
PARSE_PROCESSES = max(1, min(4, os.cpu_count() or 1))
# below this many landed bytes, threads: starting the worker processes (each imports Arrow, lxml, pypdf)
# costs more than it saves on a few MB of documents (measured at scale 1: 6.4 MB of Chorus Pro ZIPs parse
# in 2.6 s in two processes, 3.9 s in threads; 2.5 MB of single documents in 1.9-2.3 s in threads,
# 2.4-2.8 s in processes)
PROCESS_FROM_BYTES = 4_000_000
TABLES = ("einvoice_documents", "einvoice_lines", "einvoice_allowances")
QUARANTINE_FOLDER = "einvoices"

PRICE = pa.decimal128(18, 6)
QUANTITY = pa.decimal128(18, 4)
_LINEAGE = [("document_name", pa.string()), *DOCUMENT_LINEAGE.items()]
DOCUMENT_SCHEMA = pa.schema([
    ("document_fingerprint", pa.string()), ("content_fingerprint", pa.string()), ("received_via", pa.string()),
    ("chorus_invoice_id", pa.int64()), ("syntax", pa.string()), ("supplier_id", pa.string()),
    ("supplier_siret", pa.string()), ("supplier_name", pa.string()), ("supplier_vat_id", pa.string()),
    ("invoice_number", pa.string()), ("type_code", pa.string()), ("is_credit_note", pa.bool_()),
    ("issue_date", pa.date32()), ("currency", pa.string()), ("buyer_siret", pa.string()),
    ("buyer_name", pa.string()), ("buyer_reference", pa.string()), ("order_reference", pa.string()),
    ("preceding_invoices", pa.string()), ("line_extension_eur", MONEY), ("allowance_total_eur", MONEY),
    ("charge_total_eur", MONEY), ("tax_exclusive_eur", MONEY), ("tax_eur", MONEY), ("tax_inclusive_eur", MONEY),
    ("prepaid_eur", MONEY), ("rounding_eur", MONEY), ("payable_eur", MONEY), ("line_count", pa.int64()),
    *_LINEAGE,
])
LINE_SCHEMA = pa.schema([
    ("document_fingerprint", pa.string()), ("line_id", pa.string()), ("order_line_reference", pa.string()),
    ("description", pa.string()), ("quantity", QUANTITY), ("unit_code", pa.string()), ("net_price_eur", PRICE),
    ("price_base_quantity", QUANTITY), ("gross_price_eur", PRICE), ("price_discount_eur", PRICE),
    ("net_amount_eur", MONEY), ("vat_category", pa.string()), ("vat_rate_pct", pa.decimal128(9, 4)),
    *_LINEAGE,
])
ALLOWANCE_SCHEMA = pa.schema([
    ("document_fingerprint", pa.string()), ("line_id", pa.string()), ("is_charge", pa.bool_()),
    ("amount_eur", MONEY), ("base_amount_eur", MONEY), ("percent", pa.decimal128(9, 4)), ("reason", pa.string()),
    ("reason_code", pa.string()), *_LINEAGE,
])
SCHEMAS = {"einvoice_documents": DOCUMENT_SCHEMA, "einvoice_lines": LINE_SCHEMA,
           "einvoice_allowances": ALLOWANCE_SCHEMA}

# EN 16931 fields every invoice must carry (rule, business term, what)
REQUIRED = [("BR-02", "BT-1", "invoice number", lambda i: i.number),
            ("BR-03", "BT-2", "issue date", lambda i: i.issue_date),
            ("BR-05", "BT-5", "currency", lambda i: i.currency),
            ("BR-06", "BT-27", "seller name", lambda i: i.seller.name),
            ("BR-07", "BT-44", "buyer name", lambda i: i.buyer.name),
            ("BR-16", "BG-25", "at least one line", lambda i: i.lines)]
RULE_TERMS = {"BR-CO-10": "BT-106", "BR-CO-11": "BT-107", "BR-CO-12": "BT-108", "BR-CO-13": "BT-109",
              "BR-CO-15": "BT-112", "BR-CO-16": "BT-115"}


@dataclass
class Parsed:
    documents: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    allowances: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)
    read: int = 0


def documents_in(data: bytes, name: str) -> list[tuple[str, bytes]]:
    """The documents one landed file holds: itself, or each member of a ZIP batch."""
    if not data.startswith(b"PK\x03\x04"):
        return [(name, data)]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [(f"{name}!{m.filename}", z.read(m)) for m in z.infolist() if not m.is_dir()]
    except zipfile.BadZipFile as e:
        raise EInvoiceError(f"{name}: broken ZIP ({e})") from None


def chorus_invoice_id(file_name: str, document_name: str) -> int | None:
    """The Chorus Pro invoice a downloaded document belongs to: the only id of a one-invoice download
    ('documents 123..123.xml'), or a ZIP member named '<idFacture>.<ext>' (UNVERIFIED naming, see
    docs/chorus_pro.md; without it the warehouse links by supplier and number)."""
    if "!" in document_name:
        m = re.fullmatch(r"(\d+)\.\w+", Path(document_name.split("!", 1)[1]).name)
        return int(m.group(1)) if m else None
    m = re.fullmatch(r"documents (\d+)\.\.(\d+)\.\w+", file_name)
    return int(m.group(1)) if m and m.group(1) == m.group(2) else None


def supplier_id(inv: EInvoice) -> str | None:
    """SIRET when the seller gives one (what Chorus Pro calls codeFournisseur), else its first identifier
    or VAT number."""
    return inv.seller.siret or next(iter(inv.seller.identifiers), None) or inv.seller.vat_id


def _d(v: Decimal | None, places: str = "0.01") -> Decimal | None:
    return None if v is None else v.quantize(Decimal(places))


def _fingerprint(parts: list) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=False).encode()).hexdigest()


def fingerprints(inv: EInvoice) -> tuple[str, str]:
    t = inv.totals
    # the description tells apart legitimate repeats, e.g. a monthly flat fee ("... - 03/2025")
    lines = [[ln.order_line_reference, ln.description, str(_d(ln.quantity, "0.0001")), str(_d(ln.net_amount))]
             for ln in inv.lines]
    content = [supplier_id(inv), inv.type_code, inv.order_reference, str(_d(t.tax_exclusive)), str(_d(t.tax)), lines]
    return _fingerprint([inv.number, str(inv.issue_date), *content]), _fingerprint(content)


def violations(inv: EInvoice) -> list[dict]:
    found = [{"rule": rule, "column_name": term, "value": f"{what} missing", "expected_eur": None,
              "stated_eur": None} for rule, term, what, get in REQUIRED if not get(inv)]
    found += [{"rule": v.rule, "column_name": RULE_TERMS.get(v.rule), "value": f"{v.text}: expected {v.expected},"
               f" stated {v.actual}", "expected_eur": _d(v.expected), "stated_eur": _d(v.actual)}
              for v in check_totals(inv)]
    return found


def parse_file(data: bytes, sha: str, file_name: str, source: str, received_at: dt.datetime) -> Parsed:
    out = Parsed()
    lineage = {"_source_file_sha256": sha, "_source_file_name": file_name, "_received_at": received_at}
    try:
        docs = documents_in(data, file_name)
    except EInvoiceError as e:
        docs, out.quarantine = [], [_reject(source, sha, file_name, file_name, "unreadable", str(e))]
    for name, content in docs:
        out.read += 1
        try:
            inv = parse_bytes(content, name)
        except EInvoiceError as e:
            out.quarantine.append(_reject(source, sha, file_name, name, "unreadable", str(e)))
            continue
        bad = violations(inv)
        if bad:
            out.quarantine += [{"source": source, "file_sha256": sha, "file_name": file_name, "line": None,
                                "row_json": None, "document_name": name, "supplier_id": supplier_id(inv),
                                "invoice_number": inv.number, "issue_date": inv.issue_date,
                                "buyer_siret": inv.buyer.siret, **v} for v in bad]
            continue
        doc_fp, content_fp = fingerprints(inv)
        row = {**lineage, "document_name": name}
        t = inv.totals
        out.documents.append({
            **row, "document_fingerprint": doc_fp, "content_fingerprint": content_fp,
            "received_via": "chorus_pro" if source == "chorus_pro_documents" else "inbox",
            "chorus_invoice_id": chorus_invoice_id(file_name, name) if source == "chorus_pro_documents" else None,
            "syntax": inv.syntax, "supplier_id": supplier_id(inv), "supplier_siret": inv.seller.siret,
            "supplier_name": inv.seller.name, "supplier_vat_id": inv.seller.vat_id, "invoice_number": inv.number,
            "type_code": inv.type_code, "is_credit_note": inv.is_credit_note, "issue_date": inv.issue_date,
            "currency": inv.currency, "buyer_siret": inv.buyer.siret, "buyer_name": inv.buyer.name,
            "buyer_reference": inv.buyer_reference, "order_reference": inv.order_reference,
            "preceding_invoices": ",".join(inv.preceding_invoices) or None,
            "line_extension_eur": _d(t.line_extension), "allowance_total_eur": _d(t.allowances),
            "charge_total_eur": _d(t.charges), "tax_exclusive_eur": _d(t.tax_exclusive), "tax_eur": _d(t.tax),
            "tax_inclusive_eur": _d(t.tax_inclusive), "prepaid_eur": _d(t.prepaid), "rounding_eur": _d(t.rounding),
            "payable_eur": _d(t.payable), "line_count": len(inv.lines),
        })
        for ln in inv.lines:
            out.lines.append({
                **row, "document_fingerprint": doc_fp, "line_id": ln.line_id,
                "order_line_reference": ln.order_line_reference, "description": ln.description,
                "quantity": _d(ln.quantity, "0.0001"), "unit_code": ln.unit,
                "net_price_eur": _d(ln.net_price, "0.000001"), "price_base_quantity": _d(ln.price_base_quantity, "0.0001"),
                "gross_price_eur": _d(ln.gross_price, "0.000001"),
                "price_discount_eur": _d(ln.price_discount, "0.000001"), "net_amount_eur": _d(ln.net_amount),
                "vat_category": ln.vat_category, "vat_rate_pct": _d(ln.vat_rate, "0.0001"),
            })
            out.allowances += [_allowance(row, doc_fp, ln.line_id, a) for a in ln.allowances_charges]
        out.allowances += [_allowance(row, doc_fp, None, a) for a in inv.allowances_charges]
    return out


def _allowance(row: dict, doc_fp: str, line_id: str | None, a) -> dict:
    return {**row, "document_fingerprint": doc_fp, "line_id": line_id, "is_charge": a.is_charge,
            "amount_eur": _d(a.amount), "base_amount_eur": _d(a.base_amount), "percent": _d(a.percent, "0.0001"),
            "reason": a.reason, "reason_code": a.reason_code}


def _reject(source, sha, file_name, name, rule, text) -> dict:
    return {"source": source, "file_sha256": sha, "file_name": file_name, "line": None, "column_name": None,
            "rule": rule, "value": text, "row_json": None, "document_name": name, "supplier_id": None,
            "invoice_number": None, "issue_date": None, "expected_eur": None, "stated_eur": None,
            "buyer_siret": None}


def write(home: Home, sha: str, parsed: Parsed) -> None:
    for table, rows in (("einvoice_documents", parsed.documents), ("einvoice_lines", parsed.lines),
                        ("einvoice_allowances", parsed.allowances)):
        if rows:
            write_parquet(pa.Table.from_pylist(rows, schema=SCHEMAS[table]), home.validated / table / f"{sha}.parquet")
    if parsed.quarantine:
        write_parquet(quarantine_table(parsed.quarantine),
                       home.quarantine / QUARANTINE_FOLDER / f"{sha}.parquet")


def outcome(source: str, sha: str, file_name: str, parsed: Parsed) -> FileOutcome:
    bad_docs = {q["document_name"] for q in parsed.quarantine}
    status, reason = "validated", None
    if bad_docs:
        first = parsed.quarantine[0]
        who = f"{first['supplier_id']}|{first['invoice_number']}" if first["invoice_number"] else first["document_name"]
        reason = f"{len(bad_docs)} of {parsed.read} document(s) quarantined; first: {who}: {first['rule']} {first['value']}"
        status = "rejected" if not parsed.documents else "partial"
    return FileOutcome(source, sha, file_name, status, reason, rows_read=parsed.read,
                       rows_valid=len(parsed.documents), rows_quarantined=len(bad_docs), quarantine=parsed.quarantine)


def parse_and_write(root: str, source: str, job: tuple[dict, str]) -> FileOutcome:
    """One landed file (its manifest row, its local path) parsed and its Parquet written; in a worker
    process or a thread."""
    row, path = job
    parsed = parse_file(Path(path).read_bytes(), row["sha256"], row["original_name"], source,
                        dt.datetime.fromisoformat(row["received_at"]))
    write(Home(Path(root)), row["sha256"], parsed)
    return outcome(source, row["sha256"], row["original_name"], parsed)


def parse_landed(home: Home, source: str, manifest: Manifest, store: LandingStore, run_id: str,
                 progress=None) -> list[FileOutcome]:
    """Parse every landed-but-unparsed document file of one source (a file is parsed once). Parsing is
    Python's own work: from PROCESS_FROM_BYTES landed bytes on, it runs in PARSE_PROCESSES worker
    processes (threads would share one core), else a few threads. Outcomes are recorded on this thread, in order,
    each after its file's Parquet is written (then `progress(done, total)`)."""
    outcomes = []
    pending = [dict(row) for row in manifest.pending(source)]
    jobs = ((row, str(store.fetch(row["landing_key"]))) for row in pending)  # fetched as they are sent
    if sum(row["size_bytes"] for row in pending) >= PROCESS_FROM_BYTES and PARSE_PROCESSES > 1:
        pool = workers.process_pool(PARSE_PROCESSES)
    else:
        pool = ThreadPoolExecutor(workers.DOOR_THREADS)
    with manifest.held(), pool:
        for row, o in zip(pending, workers.ahead(pool, partial(parse_and_write, str(home.root), source), jobs)):
            drills.checkpoint("einvoices:written")
            manifest.record_outcome(source, row["sha256"], o.status, o.reason, o.rows_read, o.rows_valid,
                                    o.rows_quarantined, run_id)
            outcomes.append(o)
            if progress:
                progress(len(outcomes), len(pending))
    return outcomes
