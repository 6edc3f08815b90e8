"""The manifest: the register of every file received, and the one place its SQL is written."""

import sqlite3

from mediarecon.state.manifest import REGISTER_COLUMNS, Manifest


def test_what_a_run_consumed_and_when_sources_last_sent(tmp_path):
    m = Manifest(tmp_path / "landing" / "manifest.sqlite")
    # run 1 lands and processes a.csv; run 2 lands b.csv and c.xml and processes only b.csv
    m.record_landed("order_lines", "a" * 64, "a.csv", "order_lines/a.csv", 10, "run-1")
    m.record_outcome("order_lines", "a" * 64, "validated", None, 3, 3, 0, "run-1")
    m.record_landed("order_lines", "b" * 64, "b.csv", "order_lines/b.csv", 20, "run-2")
    m.record_outcome("order_lines", "b" * 64, "partial", "1 row quarantined", 3, 2, 1, "run-2")
    m.record_landed("einvoices", "c" * 64, "c.xml", "einvoices/c.xml", 30, "run-2")
    assert m.consumed("run-1") == [("order_lines", "a" * 64)]
    assert m.consumed("run-2") == [("order_lines", "a" * 64), ("order_lines", "b" * 64)]
    assert m.consumed(received_until="2000-01-01T00:00:00+00:00") == []
    assert m.evidence_names() == {"a" * 64: "order_lines/a.csv", "b" * 64: "order_lines/b.csv",
                                  "c" * 64: "einvoices/c.xml"}
    last = m.last_received()
    assert set(last) == {"order_lines", "einvoices"} and last["order_lines"] >= last["einvoices"][:10]
    assert [r[:3] for r in m.pending("einvoices")] == [("einvoices", "c" * 64, "c.xml")]


def test_the_register_and_its_backup(tmp_path):
    m = Manifest(tmp_path / "manifest.sqlite")
    m.record_landed("ad_server", "d" * 64, "cm360.csv.gz", "ad_server/d.csv.gz", 99, "run-1")
    m.record_outcome("ad_server", "d" * 64, "rejected", "no header", 0, 0, 0, "run-1")
    [row] = m.register()
    assert dict(zip(REGISTER_COLUMNS, row)) | {"received_at": None} == {
        "source": "ad_server", "sha256": "d" * 64, "original_name": "cm360.csv.gz", "landing_key": "ad_server/d.csv.gz",
        "size_bytes": 99, "received_at": None, "status": "rejected", "reason": "no header"}
    m.backup(tmp_path / "copy.sqlite")
    with sqlite3.connect(tmp_path / "copy.sqlite") as con:
        assert con.execute("select source, sha256, status from files").fetchall() == [("ad_server", "d" * 64, "rejected")]


def test_a_transaction_commits_its_calls_together_or_not_at_all(tmp_path):
    m = Manifest(tmp_path / "manifest.sqlite")
    with m.transaction():
        m.record_landed("chorus_pro", "a" * 64, "page 1", "chorus_pro/a.json", 1, "run-1")
        m.record_outcome("chorus_pro", "a" * 64, "validated", None, 1, 1, 0, "run-1")
        with sqlite3.connect(m.path) as other:  # nothing is visible before the block ends
            assert other.execute("select count(*) from files").fetchone()[0] == 0
    assert [r["status"] for r in m.files()] == ["validated"]
    try:
        with m.transaction():
            m.record_landed("chorus_pro", "b" * 64, "page 2", "chorus_pro/b.json", 1, "run-2")
            raise RuntimeError("killed mid-page")
    except RuntimeError:
        pass
    assert [r["original_name"] for r in m.files()] == ["page 1"]  # page 2 is landed again next run
