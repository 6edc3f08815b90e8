"""The door's output: validated rows and quarantined ones as Parquet, one lineage convention for all.

Every validated row carries where it came from in the `_`-prefixed lineage columns (staging renames them
without the `_`); every refused row or document is one row of the one quarantine schema.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mediarecon.state.home import Home

MONEY = pa.decimal128(18, 2)

LINEAGE = {
    "_source_file_sha256": pa.string(),
    "_source_file_name": pa.string(),
    "_source_line": pa.int64(),  # tabular files only: a document's place is its document_name and line_id
    "_received_at": pa.timestamp("us", tz="UTC"),
}
DOCUMENT_LINEAGE = {k: v for k, v in LINEAGE.items() if k != "_source_line"}

# One row per broken rule: the generic columns, then who and what a refused e-invoice is (when readable).
# buyer_siret came last (#18): quarantine files written before it lack it, and are read by name.
QUARANTINE_SCHEMA = pa.schema([
    ("source", pa.string()), ("file_sha256", pa.string()), ("file_name", pa.string()), ("line", pa.int64()),
    ("column_name", pa.string()), ("rule", pa.string()), ("value", pa.string()), ("row_json", pa.string()),
    ("document_name", pa.string()), ("supplier_id", pa.string()), ("invoice_number", pa.string()),
    ("issue_date", pa.date32()), ("expected_eur", MONEY), ("stated_eur", MONEY), ("buyer_siret", pa.string()),
])
# quarantine/<folder>/: the tabular sources' rows, and the e-invoice documents the warehouse reads
QUARANTINE_FOLDERS = ("_schema", "einvoices")


def write_parquet(table: pa.Table, target: Path) -> None:
    """Write atomically: a reader (or a crash) never sees half a file. The half-written one is not named
    *.parquet: the warehouse reads each folder by that glob, and a kill -9 mid-write leaves it behind."""
    # encoded in memory, then written through the file made for it: Arrow opening that file again by its
    # path costs more than encoding a small table (an e-invoice's lines: 1.1 -> 0.8 ms a file)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".partial")
    try:
        with open(fd, "wb") as f:
            f.write(sink.getvalue())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def quarantine_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)


def write_empty_tables(home: Home, schemas: dict[str, pa.Schema]) -> None:
    """An empty `_schema.parquet` per validated folder (and quarantine folder), so that the warehouse's
    sources resolve before the first file arrives and always have the same columns. One written by an
    older version is rewritten: the Spark engine declares each source with its columns."""
    targets = {home.validated / name / "_schema.parquet": schema for name, schema in schemas.items()}
    targets.update({home.quarantine / folder / "_schema.parquet": QUARANTINE_SCHEMA for folder in QUARANTINE_FOLDERS})
    for target, schema in targets.items():
        if not target.exists() or not pq.read_schema(target).equals(schema):
            write_parquet(schema.empty_table(), target)
