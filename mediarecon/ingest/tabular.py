"""Ingestion at the door: land each inbox file by content hash, validate it once, write valid rows to
Parquet and failing rows to quarantine with file, line, column, rule and value. Nothing is lost: the
landed file is kept whatever happens, and the manifest says what happened to it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import stat
import threading
import time
import hashlib
import json
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.file_drop import RawTable, StructuralError
from connectors.landing_store import ContentChanged, LandingStore, landing_suffix
from mediarecon import drills
from mediarecon.ingest.outcomes import FileOutcome, capped, printable_name
from mediarecon.workers import DOOR_THREADS, ahead
from mediarecon.state.manifest import Manifest
from mediarecon.ingest import checks
from mediarecon.ingest.parquet import LINEAGE, quarantine_table, write_parquet
from mediarecon.state.home import Home
from schemas._columns import arrow_schema, column_kinds
from mediarecon.ingest.sources import API_SOURCES, SOURCES, SourceSpec

@dataclass
class Validation:
    valid: pa.Table | None  # in the validated schema: typed columns, `_source_line`, lineage if given
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
    notes. Returns how many were new; same bytes again is a no-op. No file stops the others. Files are
    hashed as they are copied (one read), `DOOR_THREADS` at a time (hashing and fsync release the GIL); the
    manifest is written on this thread, in the inbox's order."""
    to_land, notes = scan_inbox(home, spec, settle_s)
    new = 0
    store.discard_partial(spec.name)  # what a run killed mid-copy left (tests/integration/test_failure_drills.py)
    with manifest.held(), ThreadPoolExecutor(DOOR_THREADS) as pool:
        known = manifest.shas(spec.name)  # every file of the source landed before
        hashed = manifest.inbox_files(spec.name)

        def copy(path: Path):
            name = printable_name(str(path.relative_to(home.inbox / spec.name)))
            try:
                st = os.stat(path)  # before reading: a change while it is read shows the next night
                seen = (st.st_size, st.st_mtime_ns, st.st_ino)
                if hashed.get(name, ())[:3] == seen and hashed[name][3] in known:
                    return name, hashed[name][3], None, None  # unchanged since it was hashed and landed: not read
                sha, landed = store.land(spec.name, path, known)
                return name, sha, landed, seen
            except OSError as e:  # ContentChanged included
                return name, e, None, None

        for name, sha, landed, seen in ahead(pool, copy, to_land):
            if isinstance(sha, ContentChanged):
                notes.append((name, "deferred", "its content changed while it was being read: landed at a later run"))
            elif isinstance(sha, OSError):
                notes.append((name, "skipped", capped(f"could not be read ({sha.strerror or sha})")))
            else:
                new += _record_landing(spec, sha, name, landed, manifest, run_id, known)
                if seen is not None:
                    manifest.record_inbox_file(spec.name, name, *seen, sha)
        manifest.replace_inbox_notes(spec.name, notes, run_id)
    return new


def _record_landing(spec: SourceSpec, sha: str, name: str, landed, manifest: Manifest, run_id: str,
                    known: set[str]) -> bool:
    """Record that `name` arrived with these bytes, and that they are landed unless they already were."""
    manifest.record_receipt(spec.name, sha, name, run_id)
    if sha in known or landed is None:
        return False
    drills.checkpoint("land:stored")  # stored, not yet in the manifest
    manifest.record_landed(spec.name, sha, name, landed.key, landed.size_bytes, run_id)
    known.add(sha)  # the same bytes under another name, later in the inbox, are a receipt only
    return True


def land_remote_source(spec: SourceSpec, inbox, store: LandingStore, manifest: Manifest, run_id: str,
                       scratch: Path) -> int:
    """Land the new objects of a sender's bucket prefix. An object is fetched once per ETag; its bytes
    then go through the same content-hash landing as a file drop. The sender's objects are only read."""
    new = 0
    scratch.mkdir(parents=True, exist_ok=True)
    known = manifest.shas(spec.name)
    for obj in inbox.list(spec.name, spec.patterns):
        if manifest.remote_seen(spec.name, obj.bucket, obj.key, obj.etag):
            continue
        # a short scratch name whatever the key's length (the key itself is recorded, escaped)
        tmp = scratch / f".remote-{hashlib.sha256(f'{obj.key}|{obj.etag}'.encode()).hexdigest()[:32]}"
        try:
            sha = inbox.download(obj, tmp)
            landed = None if sha in known else store.put(spec.name, tmp, sha, suffix=landing_suffix(Path(obj.name)))
            new += _record_landing(spec, sha, printable_name(f"s3://{obj.bucket}/{obj.key}"), landed, manifest,
                                   run_id, known)
            manifest.record_remote(spec.name, obj.bucket, obj.key, obj.etag, sha, run_id)
        finally:
            tmp.unlink(missing_ok=True)
    return new


_local = threading.local()


def _door() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per thread for the door's queries: no file, no extension, UTC."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect(config={"enable_external_access": False, "threads": DOOR_THREADS})
        con.execute("set TimeZone = 'UTC'")  # ICU is built in: nothing is loaded from outside
    return con


BATCH_ROWS = 250_000  # rows validated in one query: fewer queries, bounded memory
SMALL_FILE_ROWS = 1_000  # files of fewer rows than this, on average, are validated from one copy of their cells


def _missing(spec: SourceSpec, table: RawTable, file_name: str) -> str | None:
    missing = [h for h, c in spec.headers.items() if h not in table.columns and c not in spec.optional]
    if missing:
        return (f"{file_name}: missing column(s) {', '.join(repr(m) for m in missing)}"
                f" (found {', '.join(repr(c) for c in table.columns)})")
    return None


def _schema_cells(spec: SourceSpec, table: RawTable) -> dict[str, pa.ChunkedArray]:
    """The file's cells under the schema's column names; an absent optional column is all NULL."""
    n = table.data.num_rows
    return {name: (table.data.column(table.columns.index(header)) if header in table.columns
                   else pa.chunked_array([pa.nulls(n, pa.string())]))
            for header, name in spec.headers.items()}


# the first two and the last two bytes (UTF-8) of the whitespace characters that are not ASCII: U+0085, U+00A0,
# U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 (the others trimming removes are bytes <= 0x20)
_WIDE_SPACE_HEADS = np.array([0xC285, 0xC2A0, 0xE19A, 0xE280, 0xE281, 0xE380], np.uint16)
_WIDE_SPACE_TAILS = np.array([0xC285, 0xC2A0, 0x9A80, *range(0x8080, 0x808B), 0x80A8, 0x80A9, 0x80AF, 0x819F],
                             np.uint16)


def _trimmed_in_place(cells: pa.Array) -> pa.Array | None:
    """The cells with an empty one as NULL, their bytes not copied, when none starts or ends with whitespace
    (found from its first and last bytes); None when some may (then trimming copies the column)."""
    if cells.type != pa.string():
        return None
    n = len(cells)
    if n == 0:
        return cells
    _, offsets, data = cells.buffers()
    bounds = np.frombuffer(offsets, np.int32, n + 1, cells.offset * 4)
    first, after = bounds[:-1], bounds[1:]
    filled = after > first
    valid = cells.is_valid().to_numpy(zero_copy_only=False) if cells.null_count else None
    if valid is not None:
        filled &= valid
    if filled.any():
        body = np.frombuffer(data, np.uint8)
        at, last = first[filled], after[filled] - 1
        heads, tails = body[at], body[last]
        if (heads <= 0x20).any() or (tails <= 0x20).any():
            return None
        wide = heads >= 0x80
        if wide.any():
            pairs = body[at[wide]].astype(np.uint16) << 8 | body[np.minimum(at[wide] + 1, len(body) - 1)]
            if np.isin(pairs, _WIDE_SPACE_HEADS).any():
                return None
        wide = tails >= 0x80
        if wide.any():
            pairs = body[np.maximum(last[wide] - 1, 0)].astype(np.uint16) << 8 | body[last[wide]]
            if np.isin(pairs, _WIDE_SPACE_TAILS).any():
                return None
    empty = ~filled if valid is None else valid & ~filled
    if not empty.any():
        return cells
    keep = pa.py_buffer(np.packbits(filled, bitorder="little"))  # the empty cells' bit cleared: NULL
    return pa.Array.from_buffers(pa.string(), n, [keep, pa.py_buffer(bounds), data])


def _trimmed(cells: pa.ChunkedArray) -> pa.ChunkedArray:
    """Without surrounding whitespace (Unicode's), an empty cell as NULL."""
    chunks = [_trimmed_in_place(chunk) for chunk in cells.chunks]
    if all(chunk is not None for chunk in chunks):
        return pa.chunked_array(chunks, pa.string())
    trimmed = pc.utf8_trim_whitespace(cells)
    empty = pc.equal(trimmed, "")
    if not pc.any(empty).as_py():  # most columns have no empty cell: no second copy
        return trimmed
    return pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)


def validate_tables(spec: SourceSpec, tables: list[RawTable], lineage: dict[str, list]) -> list[Validation]:
    """Clean, type and check the rows of several files of one source in one DuckDB query
    (`mediarecon/ingest/checks.py`). Each file (a group) gets its valid rows as Arrow in the validated
    schema, with `_source_line` and its `lineage` values (one per file), and one quarantine entry per
    rule each of its other rows breaks. The tables' headers must be complete (see `_missing`)."""
    kinds = column_kinds(spec.model)
    sizes = [t.data.num_rows for t in tables]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    raw = pa.concat_tables([pa.table(_schema_cells(spec, t)) for t in tables])
    small = raw.num_rows < SMALL_FILE_ROWS * len(tables)
    if small:
        # many small files (a régie's bilans: 2 rows each): one chunk a column, as trimming and DuckDB's scan
        # pay for each chunk (723 files at scale 1: 0.36 -> 0.03 s)
        raw = raw.combine_chunks()
    with ThreadPoolExecutor(DOOR_THREADS) as pool:  # Arrow's kernels release the GIL: a column per core
        trimmed = dict(zip(raw.column_names, pool.map(_trimmed, raw.columns)))
    lines = pa.chunked_array([t.lines for t in tables], pa.int64())
    raw = pa.table(trimmed | {"_row": pa.array(np.arange(starts[-1], dtype=np.int64)),
                              "_line": lines.combine_chunks() if small else lines,
                              "_group": np.repeat(np.arange(len(tables), dtype=np.int64), sizes)})
    con = _door()
    con.register("raw", raw)
    try:
        judged = con.execute(checks.door_query(spec.model, spec.french_numbers)).to_arrow_table()
    finally:
        con.unregister("raw")
    is_bad = judged.column("_bad")
    any_bad = pc.any(is_bad).as_py() or False
    good = judged.filter(pc.invert(is_bad)) if any_bad else judged
    quarantine: list[list[dict]] = [
        [{"line": line, "column_name": None, "rule": "field_count",
          "value": f"{n} fields, expected {len(t.columns)}", "row_json": None} for line, n in t.ragged]
        for t in tables]
    if any_bad:
        for row in judged.filter(is_bad).select(["_group", "_line", "_failures", "_cells"]).to_pylist():
            row_json = json.dumps(json.loads(row["_cells"]), ensure_ascii=False)  # as the quarantine always had it
            quarantine[row["_group"]] += [{"line": row["_line"], **f, "row_json": row_json} for f in row["_failures"]]
    read = np.bincount(judged.column("_group").to_numpy(), minlength=len(tables))
    rows = good.column("_row").to_numpy()
    if len(rows) and (np.diff(rows) < 0).any():  # DuckDB keeps the order rows came in; just in case
        good = good.take(np.argsort(rows, kind="stable"))
        rows = good.column("_row").to_numpy()
    ends = np.searchsorted(rows, starts[1:])  # the good rows of file i are good[ends[i-1]:ends[i]]
    counts = np.diff(ends, prepend=0)
    text = raw.select([n for n, k in kinds.items() if k == "text"])
    # one table for the batch, each file's part a slice of it: a file's text cells as they are when all its
    # rows are good, else the good ones taken
    parts = [text.slice(starts[i], count) if count == sizes[i] else text.take(pa.array(rows[end - count:end]))
             for i, (count, end) in enumerate(zip(counts, ends))]
    cells = pa.concat_tables(parts) if parts else text
    columns = {n: cells.column(n) if k == "text" else good.column(n) for n, k in kinds.items()}
    columns["_source_line"] = good.column("_line")
    owner = pa.array(np.repeat(np.arange(len(tables), dtype=np.int64), counts))
    for name, values in lineage.items():  # one value per file
        columns[name] = pa.array(values, LINEAGE[name]).take(owner)
    valid = pa.table(columns).cast(arrow_schema(spec.model, {"_source_line": pa.int64(),
                                                              **{k: LINEAGE[k] for k in lineage}}))
    return [Validation(valid.slice(end - count, count), sorted(quarantine[i], key=lambda q: q["line"]), None,
                       int(read[i]) + len(t.ragged)) for i, (t, count, end) in enumerate(zip(tables, counts, ends))]


def validate_table(spec: SourceSpec, table: RawTable, file_name: str, lineage: dict | None = None) -> Validation:
    """One file: rejected whole when a required column is missing, else `validate_tables`."""
    reason = _missing(spec, table, file_name)
    if reason:
        return Validation(None, [], reason, table.data.num_rows + len(table.ragged))
    return validate_tables(spec, [table], {k: [v] for k, v in (lineage or {}).items()})[0]


def records_table(records: list[dict], fields: dict[str, str]) -> RawTable:
    """JSON records (an API answer) as a RawTable: values as text, the record's 1-based position in the
    answer as its line."""
    columns = list(fields)
    rows = [[None if r.get(f) is None else (str(r[f]).lower() if isinstance(r[f], bool) else str(r[f]))
             for f in columns] for r in records]
    return RawTable.from_rows(columns, rows, list(range(1, len(rows) + 1)), "utf-8")


def validate_answers(home: Home, spec: SourceSpec, answers: list[tuple[str, str, list[dict]]],
                     received_at: dt.datetime) -> list[FileOutcome]:
    """Validate the records of several landed API answers (sha256, name, records) in one pass — one
    query for many small answers — keeping each row's own answer and position as its lineage. Valid
    rows go to one Parquet file, named by the hash of the answers' hashes."""
    if not answers:
        return []
    tables = [records_table(records, spec.headers) for _, _, records in answers]
    lineage = {"_source_file_sha256": [sha for sha, _, _ in answers], "_source_file_name": [n for _, n, _ in answers],
               "_received_at": [received_at] * len(answers)}
    results = validate_tables(spec, tables, lineage)
    batch = answers[0][0] if len(answers) == 1 else hashlib.sha256(
        "".join(sorted(sha for sha, _, _ in answers)).encode()).hexdigest()
    write_parquet(pa.concat_tables([r.valid for r in results]), home.validated / spec.name / f"{batch}.parquet")
    quarantine = [[{"source": spec.name, "file_sha256": sha, "file_name": name, **q} for q in r.quarantine]
                  for (sha, name, _), r in zip(answers, results)]
    if any(quarantine):
        write_parquet(quarantine_table([q for qs in quarantine for q in qs]),
                      home.quarantine / spec.name / f"{batch}.parquet")
    return [_outcome(spec, sha, name, qs, len(records), len(r.valid))
            for (sha, name, records), r, qs in zip(answers, results, quarantine)]


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


def _read(spec: SourceSpec, landed_path: Path, file_name: str) -> RawTable | str:
    """The file's table, or why it is rejected whole (unreadable, or a required column missing)."""
    try:
        table = spec.reader(landed_path)
    except StructuralError as e:
        return str(e).replace(landed_path.name, file_name)
    return _missing(spec, table, file_name) or table


def _write_outcome(home: Home, spec: SourceSpec, result: Validation, sha: str, file_name: str) -> FileOutcome:
    if result.reject_reason:
        return FileOutcome(spec.name, sha, file_name, "rejected", reason=result.reject_reason,
                           rows_read=result.rows_read)
    write_parquet(result.valid, home.validated / spec.name / f"{sha}.parquet")
    quarantine = [{"source": spec.name, "file_sha256": sha, "file_name": file_name, **q} for q in result.quarantine]
    if quarantine:
        write_parquet(quarantine_table(quarantine), home.quarantine / spec.name / f"{sha}.parquet")
    return _outcome(spec, sha, file_name, quarantine, result.rows_read, len(result.valid))


READ_AHEAD_BYTES = 64_000_000  # landed bytes read while the previous batch is judged (about a batch of CM360)


def validate_source(home: Home, spec: SourceSpec, manifest: Manifest, store: LandingStore, run_id: str,
                    progress=None) -> list[FileOutcome]:
    """Validate every landed-but-unvalidated file of one source, many files per query; `progress(done,
    total)` is called as each file's outcome is recorded. Files are read ahead, and a batch's Parquet is
    written while the next batch is judged; outcomes are recorded on this thread."""
    outcomes: list[FileOutcome] = []
    batch: list[tuple[dict, RawTable]] = []
    written: deque[tuple[dict, Future]] = deque()  # files whose outcome is still to record, in order

    def record() -> None:
        while written:
            row, future = written.popleft()
            outcome = future.result()
            drills.checkpoint("validate:written")  # Parquet written, outcome not yet recorded
            manifest.record_outcome(spec.name, row["sha256"], outcome.status, outcome.reason, outcome.rows_read,
                                    outcome.rows_valid, outcome.rows_quarantined, run_id)
            outcomes.append(outcome)
            if progress:
                progress(len(outcomes), len(pending))

    def done(outcome: FileOutcome) -> Future:
        future = Future()
        future.set_result(outcome)
        return future

    def flush(pool: ThreadPoolExecutor) -> None:
        if not batch:
            return
        lineage = {"_source_file_sha256": [r["sha256"] for r, _ in batch],
                   "_source_file_name": [r["original_name"] for r, _ in batch],
                   "_received_at": [dt.datetime.fromisoformat(r["received_at"]) for r, _ in batch]}
        results = validate_tables(spec, [t for _, t in batch], lineage)
        record()  # the previous batch's files: written meanwhile
        for (row, _), result in zip(batch, results):  # Parquet writers release the GIL too
            written.append((row, pool.submit(_write_outcome, home, spec, result, row["sha256"], row["original_name"])))
        batch.clear()

    pending = manifest.pending(spec.name)
    rows = 0  # in the batch
    with manifest.held(), ThreadPoolExecutor(DOOR_THREADS) as pool:  # Arrow's CSV reader releases the GIL
        reads = ahead(pool, lambda row: _read(spec, store.fetch(row["landing_key"]), row["original_name"]), pending,
                      size=lambda row: row["size_bytes"], budget=READ_AHEAD_BYTES)
        for row, read in zip(pending, reads):
            if isinstance(read, str):
                written.append((row, done(FileOutcome(spec.name, row["sha256"], row["original_name"], "rejected",
                                                      reason=read))))
                continue
            batch.append((row, read))
            rows += read.data.num_rows
            if rows >= BATCH_ROWS:
                flush(pool)
                rows = 0
        flush(pool)
        record()
    return outcomes


def validated_schemas() -> dict[str, "pa.Schema"]:
    """The Parquet schema of every tabular source's validated folder (for parquet.write_empty_tables)."""
    return {spec.name: arrow_schema(spec.model, LINEAGE) for spec in [*SOURCES.values(), *API_SOURCES.values()]}
