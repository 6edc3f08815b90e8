"""Validated Parquet is written so that the warehouse's `<folder>/*.parquet` never sees half a file."""

import pyarrow as pa
import pyarrow.parquet as pq

from mediarecon.ingest import parquet


def test_a_file_being_written_is_not_in_the_warehouse_glob(tmp_path, monkeypatch):
    """A kill -9 can stop a write at any byte; what it leaves must not be read as a Parquet file."""
    seen_mid_write = []
    real_write = pq.write_table

    def write_and_look(table, where, **kw):
        real_write(table, where, **kw)
        seen_mid_write.append(sorted(p.name for p in tmp_path.glob("*.parquet")))  # what dbt's glob would read

    monkeypatch.setattr(pq, "write_table", write_and_look)
    parquet.write_parquet(pa.table({"x": [1, 2]}), tmp_path / "abc.parquet")
    assert seen_mid_write == [[]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc.parquet"]
    assert pq.read_table(tmp_path / "abc.parquet").column("x").to_pylist() == [1, 2]
