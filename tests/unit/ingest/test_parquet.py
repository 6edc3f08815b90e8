"""Validated Parquet is written so that the warehouse's `<folder>/*.parquet` never sees half a file."""

import pyarrow as pa
import pyarrow.parquet as pq

from mediarecon.ingest import parquet
from mediarecon.state.home import Home


def test_a_file_being_written_is_not_in_the_warehouse_glob(tmp_path, monkeypatch):
    """A kill -9 can stop a write at any byte; what it leaves must not be read as a Parquet file."""
    seen_mid_write = []
    real_replace = parquet.os.replace

    def look_then_replace(src, dst):  # the bytes are all on disk, under their temporary name
        seen_mid_write.append((sorted(p.name for p in tmp_path.glob("*.parquet")),  # what dbt's glob would read
                               sorted(p.name for p in tmp_path.iterdir())))
        real_replace(src, dst)

    monkeypatch.setattr(parquet.os, "replace", look_then_replace)
    parquet.write_parquet(pa.table({"x": [1, 2]}), tmp_path / "abc.parquet")
    ((globbed, present),) = seen_mid_write
    assert globbed == [] and len(present) == 1 and present[0].endswith(".partial")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc.parquet"]
    assert pq.read_table(tmp_path / "abc.parquet").column("x").to_pylist() == [1, 2]


def test_an_empty_schema_file_of_an_older_version_is_rewritten_and_old_files_read_by_name(tmp_path):
    """A home from before a column was added (buyer_siret in the quarantine): its `_schema.parquet` gets the
    column (Spark declares the source from it), and a file written before reads as null there."""
    import duckdb

    home = Home(tmp_path)
    folder = home.quarantine / "einvoices"
    older = pa.schema([f for f in parquet.QUARANTINE_SCHEMA if f.name != "buyer_siret"])
    parquet.write_parquet(older.empty_table(), folder / "_schema.parquet")
    parquet.write_parquet(pa.Table.from_pylist([{"rule": "BR-CO-10", "file_sha256": "0" * 64}], schema=older),
                          folder / ("0" * 64 + ".parquet"))
    parquet.write_empty_tables(home, {"x": pa.schema([("a", pa.int64())])})
    assert pq.read_schema(folder / "_schema.parquet").equals(parquet.QUARANTINE_SCHEMA)
    current = (folder / "_schema.parquet").stat().st_mtime_ns
    parquet.write_empty_tables(home, {"x": pa.schema([("a", pa.int64())])})
    assert (folder / "_schema.parquet").stat().st_mtime_ns == current  # up to date: left alone
    # as the dbt source reads it (models/staging/einvoice/_einvoice__sources.yml)
    assert duckdb.sql(f"select rule, buyer_siret from read_parquet('{folder}/*.parquet', union_by_name = true)"
                      ).fetchall() == [("BR-CO-10", None)]
