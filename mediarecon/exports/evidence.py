"""From a finding to its proof: the received file as its sender named it, when it arrived, the run that
landed it, and the raw line itself (for an e-invoice batch: the document inside the ZIP). Read by
`mediarecon evidence` and the dashboard; the landed file is read where the landing store keeps it, never
through the warehouse reader (which can read nothing but the marts)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from connectors.file_drop import StructuralError, decode
from mediarecon.state.manifest import Manifest

RAW_LIMIT = 4000  # characters of a raw line or record shown (the download has the whole file)


@dataclass
class Evidence:
    finding_id: str
    evidence_source: str | None
    sha256: str | None
    line: int | None
    document_name: str | None  # the member of an e-invoice batch, when the evidence is one document of it
    original_name: str | None = None
    manifest_source: str | None = None  # the landed source (order_lines, ad_server…)
    received_at: str | None = None
    received_run_id: str | None = None
    processed_run_id: str | None = None
    status: str | None = None
    landing_key: str | None = None
    raw: str | None = None  # the line (or record, or document) as received
    header: str | None = None  # the header line of a delimited file, to read the raw line's columns by
    note: str | None = None  # why there is no raw line, when there is none (French: the dashboard shows it)
    downloadable: bool = False  # whether this reader may download the file (or the document) itself

    def as_dict(self) -> dict:
        return asdict(self)


def member_name(document_name: str | None) -> str | None:
    """`batch.zip!invoice.xml` -> `invoice.xml`; a document that is the whole file has no member."""
    if not document_name or "!" not in document_name:
        return None
    return document_name.split("!", 1)[1]


def _unzipped(data: bytes, member: str | None) -> tuple[bytes, str | None]:
    """The bytes of `member` inside a ZIP batch (or the data itself when there is no member)."""
    if member is None or not data.startswith(b"PK\x03\x04"):
        return data, None
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        try:
            return z.read(member), None
        except KeyError:
            return data, f"le lot ne contient aucun document nommé {member}"


def _excel_row(data: bytes, line: int) -> str | None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(min_row=line, max_row=line, values_only=True):
            return " ; ".join("" if v is None else str(v) for v in row).rstrip(" ;")
    finally:
        book.close()
    return None


def _json_record(data: bytes, line: int, whole: bool) -> str:
    """Record `line` (1-based) of an API answer's list of records, else the whole answer (when `whole`:
    an answer about one invoice is that invoice's, a page of a search is everyone's)."""
    answer = json.loads(data)
    records = answer if isinstance(answer, list) else next(
        (v for v in (answer.values() if isinstance(answer, dict) else []) if isinstance(v, list)), None)
    if records and 1 <= line <= len(records) and isinstance(answer, list):
        return json.dumps(records[line - 1], ensure_ascii=False, indent=2)
    if not whole and not (isinstance(answer, dict) and "idFacture" in answer):
        return SHARED_FILE
    return json.dumps(answer, ensure_ascii=False, indent=2)


def raw_line(data: bytes, name: str, line: int | None, whole: bool = True) -> tuple[str | None, str | None, str | None]:
    """(the raw line `line` of a received file, the header line above it, None) or (None, None, why not).
    Lines are the file's physical lines, as the quarantine counts them (Excel's row for a workbook; the
    record for an API answer); only a delimited text file has a header line here. Without a line, the
    file is shown whole only when `whole` (it is one document, or the reader may see every row of it)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data.startswith(b"PK\x03\x04") and name.lower().endswith((".xlsx", ".xlsm")):
        if line is None:
            return None, None, "un classeur, sans ligne désignée"
        return _excel_row(data, line), None, None
    if line is None:
        if not whole:
            return None, None, SHARED_FILE
        if data.lstrip()[:1] == b"<" or len(data) <= RAW_LIMIT:  # one document (an e-invoice): shown whole
            text, _ = decode(data, Path(name))
            return text[:RAW_LIMIT], None, None
        return None, None, "le constat désigne le fichier, pas une de ses lignes"
    if data.lstrip()[:1] in (b"{", b"["):
        return _json_record(data, line, whole)[:RAW_LIMIT], None, None
    try:
        text, _ = decode(data, Path(name))
    except StructuralError as e:
        return None, None, str(e)
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None, None, f"le fichier a {len(lines)} lignes, pas {line}"
    return lines[line - 1][:RAW_LIMIT], _header(lines, line), None


def _header(lines: list[str], line: int) -> str | None:
    """The header above line `line` of a delimited text file: the first line with as many fields (a
    CM360 report's preamble lines have fewer)."""
    delimiter = ";" if lines[line - 1].count(";") > lines[line - 1].count(",") else ","
    fields = lambda row: next(csv.reader([row], delimiter=delimiter), [])
    width = len(fields(lines[line - 1]))
    return next((row[:RAW_LIMIT] for row in lines[:line - 1] if len(fields(row)) == width), None)


def evidence_of(finding: dict, manifest: Manifest, store, whole_files: bool = True) -> Evidence:
    """The evidence of one finding (a fct_findings row as a dict). `whole_files`: the reader may see a
    received file whole (the coordinator, the auditor); else (an advertiser) only the finding's own line,
    or its own e-invoice document — a sender's file holds other advertisers' rows too (CCAP 11.7)."""
    found = Evidence(finding["finding_id"], finding.get("evidence_source"), finding.get("evidence_file_sha256"),
                     finding.get("evidence_line"), finding.get("evidence_document_name"))
    if not found.sha256:
        found.note = "ce constat est calculé sur de nombreux fichiers (un chiffre annuel ou de tout le marché) : pas de fichier unique"
        return found
    row = manifest.landed_file(found.sha256)
    if row is None:
        found.note = "aucun fichier reçu n'a ce sha256 dans le manifeste"
        return found
    found.original_name, found.manifest_source = row["original_name"], row["source"]
    found.received_at, found.status, found.landing_key = row["received_at"], row["status"], row["landing_key"]
    found.received_run_id, found.processed_run_id = row["received_run_id"], row["processed_run_id"]
    try:
        data, missing = landed_document(store, found)
    except (OSError, RuntimeError) as e:  # a purged file; an object store that does not answer (StorageError)
        found.note = f"le fichier reçu ne peut être lu ({getattr(e, 'strerror', None) or e})"
        return found
    if missing:
        found.note = missing
        return found
    one_document = _one_document(found, data)
    found.downloadable = whole_files or one_document
    name = member_name(found.document_name) or found.original_name
    found.raw, found.header, found.note = raw_line(data, name, found.line, whole=whole_files or one_document)
    if not found.downloadable and found.note is None:
        found.note = SHARED_FILE
    return found


SHARED_FILE = ("le fichier reçu contient aussi des lignes d'autres annonceurs : seule la ligne de ce constat est"
               " montrée ; le coordinateur ou le contrôleur peut fournir le fichier")


def _one_document(evidence: Evidence, data: bytes) -> bool:
    """Whether the evidence is one e-invoice (a member of a batch, or a file that is one document)."""
    return member_name(evidence.document_name) is not None or (
        evidence.evidence_source == "einvoice" and not data.startswith(b"PK\x03\x04"))


def landed_document(store, evidence: Evidence) -> tuple[bytes, str | None]:
    """The bytes of the evidence as received: the landed file, or its document inside a batch."""
    data = Path(store.fetch(evidence.landing_key)).read_bytes()
    return _unzipped(data, member_name(evidence.document_name))


def download_name(evidence: Evidence) -> str:
    """The name the sender gave: the batch's member for an e-invoice document, else the file's."""
    name = member_name(evidence.document_name) or evidence.original_name or evidence.sha256 or "evidence"
    return Path(name.replace("\\", "/")).name or "evidence"
