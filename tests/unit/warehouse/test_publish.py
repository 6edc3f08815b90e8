"""Publishing, and when a night keeps the published warehouse instead of rebuilding it."""

import duckdb

from mediarecon.state.home import Home
from mediarecon.state.manifest import Manifest
from mediarecon.warehouse.publish import PUBLISHED_MARTS, kept_warehouse, publish

REPEAT = "nothing new: a repeat"
KEY = {"dbt_vars": {"as_of_date": "2026-12-01"}, "dbt_project_sha256": "p" * 64}


def build(home: Home, rows: int) -> None:
    con = duckdb.connect(str(home.build_db))
    for mart in PUBLISHED_MARTS:
        con.execute(f"create table {mart} as select range as n from range({rows})")
    con.close()


def processed(manifest: Manifest, sha: str, run_id: str, reason=None, status="validated") -> None:
    manifest.record_landed("chorus_pro", sha * 64, f"{sha}.json", f"chorus_pro/{sha}.json", 1, run_id)
    manifest.record_outcome("chorus_pro", sha * 64, status, reason, 1, 1, 0, run_id)


def test_a_night_that_only_repeats_keeps_the_warehouse_and_anything_else_rebuilds(tmp_path):
    home = Home(tmp_path).ensure()
    manifest = Manifest(home.manifest)
    assert kept_warehouse(home, manifest, KEY, REPEAT) is None  # nothing published yet
    processed(manifest, "a", "run-1")
    build(home, 3)
    publish(home, {"run_id": "run-1", "key": KEY})
    assert kept_warehouse(home, manifest, KEY, REPEAT) == "run-1"
    processed(manifest, "b", "run-2", reason=REPEAT)  # the overlap page: kept, but nothing new
    assert kept_warehouse(home, manifest, KEY, REPEAT) == "run-1"
    # another as-of date, dbt project or engine: the same files make another warehouse
    assert kept_warehouse(home, manifest, {**KEY, "dbt_vars": {"as_of_date": "2026-12-02"}}, REPEAT) is None
    assert kept_warehouse(home, manifest, {**KEY, "dbt_project_sha256": "q" * 64}, REPEAT) is None
    # a repeat that was quarantined or rejected, or any other file processed since: rebuilt
    processed(manifest, "c", "run-3", reason=REPEAT, status="partial")
    assert kept_warehouse(home, manifest, KEY, REPEAT) is None


def test_a_file_the_record_does_not_describe_is_rebuilt(tmp_path):
    home = Home(tmp_path).ensure()
    manifest = Manifest(home.manifest)
    build(home, 3)
    publish(home, {"run_id": "run-1", "key": KEY})
    build(home, 4)
    publish(home)  # published without a record (e.g. by a tool): nothing says what it holds
    assert not home.published_inputs.exists()
    assert kept_warehouse(home, manifest, KEY, REPEAT) is None
    build(home, 3)
    publish(home, {"run_id": "run-1", "key": KEY})
    home.published_db.write_bytes(home.previous_db.read_bytes())  # restored by hand from the previous file
    assert kept_warehouse(home, manifest, KEY, REPEAT) is None
    home.published_inputs.write_text("{not json", encoding="utf-8")
    assert kept_warehouse(home, manifest, KEY, REPEAT) is None


def test_a_reader_names_the_file_it_attached_even_after_the_next_publish(tmp_path):
    """Reader.origin: the sha256 of the very file it reads, its run and as-of date; once a later publish
    moved that file aside, its digest is still that file's (found as the previous warehouse), and no run
    is claimed for it (the record now describes the new file)."""
    import hashlib

    from mediarecon.settings import ReaderSettings
    from mediarecon.warehouse.reader import Origin, open_reader

    home = Home(tmp_path).ensure()
    build(home, 3)
    publish(home, {"run_id": "run-1", "key": KEY})
    first = hashlib.sha256(home.published_db.read_bytes()).hexdigest()
    reader = open_reader(home, ReaderSettings())
    assert reader.origin() == Origin(first, "run-1", "2026-12-01")
    build(home, 5)
    publish(home, {"run_id": "run-2", "key": KEY})
    assert hashlib.sha256(home.published_db.read_bytes()).hexdigest() != first
    assert reader.execute("select count(*) from fct_findings").fetchone() == (3,)  # still the first file
    assert reader.origin() == Origin(first, None, None)
    reader.close()
    with open_reader(home, ReaderSettings()) as second:
        assert second.origin().run_id == "run-2" and second.origin().sha256 != first
