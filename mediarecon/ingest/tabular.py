"""Ingestion at the door: land each inbox file by content hash, validate it once, write valid rows to
Parquet and failing rows to quarantine with file, line, column, rule and value. Nothing is lost: the
landed file is kept whatever happens, and the manifest says what happened to it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import stat
import time
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.errors
import pyarrow as pa

from connectors.file_drop import RawTable, StructuralError
from connectors.landing_store import ContentChanged, LandingStore, landing_suffix, sha256_file
from mediarecon import drills
from mediarecon.state.manifest import Manifest
from mediarecon.ingest.parquet import LINEAGE, quarantine_table, write_parquet
from mediarecon.state.home import Home
from schemas._columns import column_kinds, empty_arrow, french_number, to_arrow
from mediarecon.ingest.sources import API_SOURCES, SOURCES, SourceSpec

REASON_MAX = 300  # characters of a reason kept in the manifest, logs and status (the cut is counted)


def capped(reason: str | None) -> str | None:
    if reason is None or len(reason) <= REASON_MAX:
        return reason
    return f"{reason[:REASON_MAX]}… ({len(reason) - REASON_MAX} more characters)"


def printable_name(name: str) -> str:
    """A sender's file name as text that is safe anywhere (manifest, logs, a terminal): undecodable bytes as
    \\xNN, control characters (a newline forging a line of `status`) as escapes."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass
class FileOutcome:
    source: str
    sha256: str
    file_name: str
    status: str  # validated | partial | rejected
    reason: str | None = None
    rows_read: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    quarantine: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.file_name, self.reason = printable_name(self.file_name), capped(self.reason)


@dataclass
class Validation:
    valid: pd.DataFrame | None
    quarantine: list[dict]
    reject_reason: str | None
    rows_read: int


def scan_inbox(home: Home, spec: SourceSpec, settle_s: float = 0, now: float | None = None
               ) -> tuple[list[Path], list[tuple[str, str, str]]]:
    """The files of inbox/<source>/ to land, and a (name, status, reason) note for every other entry:
    `skipped` (a link, not followed, or not a regular file), `ignored` (hidden, or not one of the source's
    file types; the extension's case does not matter), `deferred` (modified less than settle_s seconds
    ago: still being written; landed at a later run)."""
    folder = home.inbox / spec.name
    to_land, notes = [], []
    if not folder.is_dir():
        return to_land, notes
    now = time.time() if now is None else now
    kinds = " or ".join(p.removeprefix("*") for p in spec.patterns)
    for root, dirs, files in os.walk(folder):
        for d in list(dirs):
            if os.path.islink(os.path.join(root, d)):
                dirs.remove(d)
                files.append(d)  # reported below as a link
        for entry in sorted(files):
            path = Path(root) / entry
            name = printable_name(str(path.relative_to(folder)))
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                notes.append((name, "skipped", "a symbolic link: not followed (copy the file itself into the inbox)"))
            elif not stat.S_ISREG(st.st_mode):
                notes.append((name, "skipped", "not a regular file (a pipe, socket or device)"))
            elif any(part.startswith(".") for part in path.relative_to(folder).parts):
                notes.append((name, "ignored", "a hidden file"))
            elif not any(fnmatch.fnmatch(entry.lower(), p) for p in spec.patterns):
                notes.append((name, "ignored", f"not a {kinds} file"))
            elif now - st.st_mtime < settle_s:
                notes.append((name, "deferred", f"modified {now - st.st_mtime:.0f} s ago, perhaps still being written:"
                                                f" landed at a later run (MEDIARECON_INBOX_SETTLE_S={settle_s:g})"))
            else:
                to_land.append(path)
    return sorted(to_land), notes


def land_source(home: Home, spec: SourceSpec, store: LandingStore, manifest: Manifest, run_id: str,
                settle_s: float = 0) -> int:
    """Copy new inbox files into landing; report every other entry of the inbox in the manifest's inbox
    notes. Returns how many were new; same bytes again is a no-op. No file stops the others."""
    to_land, notes = scan_inbox(home, spec, settle_s)
    new = 0
    for path in to_land:
        name = printable_name(str(path.relative_to(home.inbox / spec.name)))
        try:
            new += _land_file(spec, path, sha256_file(path), name, store, manifest, run_id)
        except ContentChanged:
            notes.append((name, "deferred", "its content changed while it was being read: landed at a later run"))
        except OSError as e:
            notes.append((name, "skipped", capped(f"could not be read ({e.strerror or e})")))
    manifest.replace_inbox_notes(spec.name, notes, run_id)
    return new


def _land_file(spec: SourceSpec, path: Path, sha: str, name: str, store: LandingStore, manifest: Manifest,
               run_id: str, suffix: str | None = None) -> bool:
    """Record that `name` arrived with these bytes, and land them unless they already were."""
    manifest.record_receipt(spec.name, sha, name, run_id)
    if manifest.known(spec.name, sha):
        return False
    obj = store.put(spec.name, path, sha, suffix=suffix)
    drills.checkpoint("land:stored")  # stored, not yet in the manifest
    manifest.record_landed(spec.name, sha, name, obj.key, obj.size_bytes, run_id)
    return True


def land_remote_source(spec: SourceSpec, inbox, store: LandingStore, manifest: Manifest, run_id: str,
                       scratch: Path) -> int:
    """Land the new objects of a sender's bucket prefix. An object is fetched once per ETag; its bytes
    then go through the same content-hash landing as a file drop. The sender's objects are only read."""
    new = 0
    scratch.mkdir(parents=True, exist_ok=True)
    for obj in inbox.list(spec.name, spec.patterns):
        if manifest.remote_seen(spec.name, obj.bucket, obj.key, obj.etag):
            continue
        # a short scratch name whatever the key's length (the key itself is recorded, escaped)
        tmp = scratch / f".remote-{hashlib.sha256(f'{obj.key}|{obj.etag}'.encode()).hexdigest()[:32]}"
        try:
            sha = inbox.download(obj, tmp)
            new += _land_file(spec, tmp, sha, printable_name(f"s3://{obj.bucket}/{obj.key}"), store, manifest,
                              run_id, suffix=landing_suffix(Path(obj.name)))
            manifest.record_remote(spec.name, obj.bucket, obj.key, obj.etag, sha, run_id)
        finally:
            tmp.unlink(missing_ok=True)
    return new


def validate_table(spec: SourceSpec, table: RawTable, file_name: str, file_sha: str) -> Validation:
    """Map the sender's headers, validate lazily, split valid rows from quarantined ones."""
    rows_read = len(table.rows) + len(table.ragged)
    wanted = {h: c for h, c in spec.headers.items()}
    present = [h for h in table.columns if h in wanted]
    missing = [h for h, c in wanted.items() if h not in table.columns and c not in spec.optional]
    if missing:
        return Validation(None, [], f"{file_name}: missing column(s) {', '.join(repr(m) for m in missing)}"
                          f" (found {', '.join(repr(c) for c in table.columns)})", rows_read)
    positions = [table.columns.index(h) for h in present]
    df = pd.DataFrame([[row[i] for i in positions] for row in table.rows],
                      columns=[wanted[h] for h in present], dtype=object)
    for h, c in wanted.items():
        if c not in df.columns:
            df[c] = None
    df = df[list(column_kinds(spec.model))]
    for col in df.columns:  # trim, and an empty cell is a missing value
        stripped = df[col].str.strip()
        df[col] = stripped.where(stripped.notna() & (stripped != ""), None)
    if spec.french_numbers:
        for col, kind in column_kinds(spec.model).items():
            if kind in ("money", "rate"):
                df[col] = french_number(df[col].astype("string")).astype(object).where(df[col].notna(), None)
    raw = df.copy()
    quarantine = [
        {"line": line, "column_name": None, "rule": "field_count",
         "value": f"{n} fields, expected {len(table.columns)}", "row_json": None, "row_index": None}
        for line, n in table.ragged
    ]
    bad_index: set[int] = set()
    try:
        validated = spec.model.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as err:
        fc = err.failure_cases
        # A value that cannot be coerced is reported on its row; pandera then also fails that column's
        # other checks as a whole (they ran on uncoerced text): those are echoes, not a broken file.
        coerce_failed = set(fc.loc[fc["index"].notna() & fc["check"].astype(str).str.startswith("coerce_dtype"),
                                   "column"])
        whole = fc[fc["index"].isna() & ~fc["column"].isin(coerce_failed)]
        if len(whole):
            first = whole.iloc[0]
            return Validation(None, [], f"{file_name}: column {first['column']!r} fails {first['check']}"
                              f" for the whole file ({first['failure_case']!r})", rows_read)
        for rec in fc[fc["index"].notna()].itertuples(index=False):
            i = int(rec.index)
            bad_index.add(i)
            quarantine.append({
                "row_index": i,
                "line": table.line_numbers[i],
                "column_name": None if rec.column == spec.model.Config.name else rec.column,
                "rule": str(rec.check),
                "value": None if pd.isna(rec.failure_case) else str(rec.failure_case),
                "row_json": json.dumps({k: (None if pd.isna(v) else str(v)) for k, v in raw.iloc[i].items()},
                                       ensure_ascii=False),
            })
        good = raw.drop(index=sorted(bad_index))
        validated = spec.model.validate(good, lazy=True) if len(good) else good
    validated = validated.copy()
    validated["_source_line"] = [table.line_numbers[i] for i in validated.index]
    return Validation(validated, quarantine, None, rows_read)


def records_table(records: list[dict], fields: dict[str, str]) -> RawTable:
    """JSON records (an API answer) as a RawTable: values as text, the record's 1-based position in the
    answer as its line."""
    columns = list(fields)
    rows = [[None if r.get(f) is None else (str(r[f]).lower() if isinstance(r[f], bool) else str(r[f]))
             for f in columns] for r in records]
    return RawTable(columns=columns, rows=rows, line_numbers=list(range(1, len(rows) + 1)), encoding="utf-8")


def validate_answers(home: Home, spec: SourceSpec, answers: list[tuple[str, str, list[dict]]],
                     received_at: dt.datetime) -> list[FileOutcome]:
    """Validate the records of several landed API answers (sha256, name, records) in one pass — one
    pandera call for many small answers — keeping each row's own answer and position as its lineage.
    Valid rows go to one Parquet file, named by the hash of the answers' hashes."""
    if not answers:
        return []
    rows, lines, owners = [], [], []
    for i, (_, _, records) in enumerate(answers):
        part = records_table(records, spec.headers)
        rows += part.rows
        lines += part.line_numbers
        owners += [i] * len(part.rows)
    table = RawTable(columns=list(spec.headers), rows=rows, line_numbers=lines, encoding="utf-8")
    result = validate_table(spec, table, answers[0][1] if len(answers) == 1 else f"{len(answers)} answers", "")
    if result.reject_reason:
        return [FileOutcome(spec.name, sha, name, "rejected", reason=result.reject_reason, rows_read=len(recs))
                for sha, name, recs in answers]
    valid = result.valid
    valid["_source_file_sha256"] = [answers[owners[i]][0] for i in valid.index]
    valid["_source_file_name"] = [answers[owners[i]][1] for i in valid.index]
    valid["_received_at"] = received_at
    batch = answers[0][0] if len(answers) == 1 else hashlib.sha256(
        "".join(sorted(sha for sha, _, _ in answers)).encode()).hexdigest()
    write_parquet(to_arrow(valid, spec.model, LINEAGE), home.validated / spec.name / f"{batch}.parquet")
    quarantine = [{"source": spec.name, "file_sha256": answers[owners[q["row_index"]]][0],
                   "file_name": answers[owners[q["row_index"]]][1],
                   **{k: v for k, v in q.items() if k != "row_index"}} for q in result.quarantine]
    if quarantine:
        write_parquet(quarantine_table(quarantine),
                       home.quarantine / spec.name / f"{batch}.parquet")
    outcomes = []
    for sha, name, records in answers:
        mine = [q for q in quarantine if q["file_sha256"] == sha]
        outcomes.append(_outcome(spec, sha, name, mine, len(records),
                                 sum(1 for s in valid["_source_file_sha256"] if s == sha)))
    return outcomes


def _outcome(spec: SourceSpec, sha: str, file_name: str, quarantine: list[dict], rows_read: int,
             rows_valid: int) -> FileOutcome:
    n_bad = len({q["line"] for q in quarantine})
    reason = None
    if quarantine:
        first = quarantine[0]
        reason = (f"{n_bad} row(s) quarantined; first: line {first['line']}, column {first['column_name']},"
                  f" rule {first['rule']}, value {first['value']!r}")
    return FileOutcome(spec.name, sha, file_name, "partial" if quarantine else "validated", reason, rows_read,
                       rows_valid, n_bad, quarantine)


def validate_landed_file(home: Home, spec: SourceSpec, landed_path: Path, sha: str, file_name: str,
                         received_at: dt.datetime) -> FileOutcome:
    try:
        table = spec.reader(landed_path)
        result = validate_table(spec, table, file_name, sha)
    except StructuralError as e:
        return FileOutcome(spec.name, sha, file_name, "rejected", reason=str(e).replace(landed_path.name, file_name))
    return _write_outcome(home, spec, result, sha, file_name, received_at)


def _write_outcome(home: Home, spec: SourceSpec, result: Validation, sha: str, file_name: str,
                   received_at: dt.datetime) -> FileOutcome:
    if result.reject_reason:
        return FileOutcome(spec.name, sha, file_name, "rejected", reason=result.reject_reason,
                           rows_read=result.rows_read)
    valid = result.valid
    valid["_source_file_sha256"] = sha
    valid["_source_file_name"] = file_name
    valid["_received_at"] = received_at
    write_parquet(to_arrow(valid, spec.model, LINEAGE), home.validated / spec.name / f"{sha}.parquet")
    quarantine = [{"source": spec.name, "file_sha256": sha, "file_name": file_name,
                   **{k: v for k, v in q.items() if k != "row_index"}} for q in result.quarantine]
    if quarantine:
        write_parquet(quarantine_table(quarantine),
                       home.quarantine / spec.name / f"{sha}.parquet")
    return _outcome(spec, sha, file_name, quarantine, result.rows_read, len(valid))


def validate_source(home: Home, spec: SourceSpec, manifest: Manifest, store: LandingStore, run_id: str
                    ) -> list[FileOutcome]:
    """Validate every landed-but-unvalidated file of one source."""
    outcomes = []
    for row in manifest.pending(spec.name):
        received_at = dt.datetime.fromisoformat(row["received_at"])
        outcome = validate_landed_file(home, spec, store.fetch(row["landing_key"]), row["sha256"],
                                       row["original_name"], received_at)
        drills.checkpoint("validate:written")  # Parquet written, outcome not yet recorded
        manifest.record_outcome(spec.name, row["sha256"], outcome.status, outcome.reason, outcome.rows_read,
                                outcome.rows_valid, outcome.rows_quarantined, run_id)
        outcomes.append(outcome)
    return outcomes


def validated_schemas() -> dict[str, "pa.Schema"]:
    """The Parquet schema of every tabular source's validated folder (for parquet.write_empty_tables)."""
    return {spec.name: empty_arrow(spec.model, LINEAGE).schema for spec in [*SOURCES.values(), *API_SOURCES.values()]}
