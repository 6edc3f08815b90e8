"""The reader's connection and statement check, on a real DuckDB file in a temp dir.

Each DuckDB setting is tested on its own, below the statement check (the raw connection), so that the
lock-down never rests on the check alone; then the check is tested on its own."""

import os
import pickle
import time

import duckdb
import pytest

from mediarecon.warehouse.reader import QueryTimeout, ReaderError, ReadOnlyViolation, check_statement, open_reader
from connectors.secret import Secret
from mediarecon.settings import ChorusSettings, ReaderSettings, Settings, SettingsError
from mediarecon.state.home import Home
from tests.receivers import Hits


@pytest.fixture
def home(tmp_path):
    h = Home(tmp_path / "home")
    h.published_db.parent.mkdir(parents=True)
    con = duckdb.connect(str(h.published_db))
    con.execute("create table fct_findings as select 'under_delivery' as finding_type, 12.50::decimal(18,2) as amount")
    con.close()
    (h.root / "landing").mkdir()
    (h.root / "landing" / "manifest.sqlite").write_bytes(b"SQLite format 3\x00")
    return h


@pytest.fixture
def reader(home):
    with open_reader(home, ReaderSettings(timeout_s=60, memory_limit="256MB", threads=1)) as r:
        yield r


def raw(reader, sql):
    """Below the statement check: what DuckDB itself lets the connection do."""
    return reader._con.execute(sql).fetchall()


def test_the_published_marts_are_readable(reader):
    assert reader.query("select finding_type, amount from fct_findings") == (
        ["finding_type", "amount"], [("under_delivery", pytest.approx(12.5))])
    assert reader.execute("select count(*) from fct_findings where finding_type = ?", ["under_delivery"]).fetchone() == (1,)


def test_duckdb_itself_refuses_files_and_urls(reader, home, tmp_path):
    (tmp_path / "secret.txt").write_text("root:x:0:0")
    hits = Hits()
    for sql in [f"select content from read_text('{tmp_path / 'secret.txt'}')",
                f"select * from read_blob('{tmp_path / 'secret.txt'}')",
                "select * from glob('/root/**')",
                f"select * from read_parquet('{home.root}/validated/**/*.parquet')",
                f"select * from read_csv('{hits.url}')",
                f"select content from read_text('{hits.url}')",
                f"copy fct_findings to '{tmp_path / 'out.csv'}'",
                f"copy fct_findings to '{home.root / 'inbox.csv'}'",
                f"attach '{tmp_path / 'other.duckdb'}' as other",
                f"export database '{tmp_path / 'export'}'"]:
        with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
            raw(reader, sql)
    with pytest.raises(duckdb.CatalogException):  # no replacement scan of a file name either
        raw(reader, f"select * from '{home.manifest}'")
    assert hits.count == 0
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_duckdb_itself_refuses_extensions_and_settings(reader):
    with pytest.raises(duckdb.PermissionException):
        raw(reader, "load httpfs")
    with pytest.raises(duckdb.PermissionException):
        raw(reader, "install httpfs")
    for sql in ["set memory_limit = '20GB'", "set threads = 8", "set enable_external_access = true",
                "reset lock_configuration", "pragma threads = 4", "set autoload_known_extensions = true"]:
        with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
            raw(reader, sql)
    settings = dict(raw(reader, "select name, value from duckdb_settings() where name in ('enable_external_access',"
                                " 'autoload_known_extensions', 'autoinstall_known_extensions',"
                                " 'allow_community_extensions', 'lock_configuration', 'threads', 'memory_limit')"))
    assert settings == {"enable_external_access": "false", "autoload_known_extensions": "false",
                        "autoinstall_known_extensions": "false", "allow_community_extensions": "false",
                        "lock_configuration": "true", "threads": "1", "memory_limit": "244.1 MiB"}
    with pytest.raises(duckdb.Error):  # read-only file: no write, even of a macro
        raw(reader, "create table t as select 1")


def test_nothing_spills_and_a_query_beyond_the_memory_limit_names_the_setting(home):
    with open_reader(home, ReaderSettings(timeout_s=60, memory_limit="64MB", threads=1)) as r:
        assert raw(r, "select current_setting('temp_directory')") == [("",)]
        with pytest.raises(ReaderError, match="MEDIARECON_QUERY_MEMORY_LIMIT=64MB"):
            r.query("select count(*) from (select i, md5(i::varchar) m from range(20000000) t(i) order by m)")


def test_a_result_beyond_the_row_cap_is_refused_naming_the_setting(home):
    with open_reader(home, ReaderSettings(max_rows=1000)) as r:
        assert len(r.query("select * from range(1000)")[1]) == 1000
        with pytest.raises(ReaderError, match="more than MEDIARECON_QUERY_MAX_ROWS=1000 rows"):
            r.query("select * from range(1001)")


@pytest.mark.parametrize("sql", [
    "select 1", "  SELECT * FROM fct_findings  ", "with a as (select 1 as x) select * from a", "values (1), (2)",
    "from fct_findings", "(select 1) union all (select 2)", "explain select * from fct_findings",
    "explain analyze select count(*) from fct_findings", "describe fct_findings", "-- comment\nselect 1",
])
def test_plain_queries_pass_the_check(sql):
    assert check_statement(sql)


@pytest.mark.parametrize("sql, reason", [
    ("explain analyze copy (select 1) to '/tmp/x.csv'", "EXPLAIN ANALYZE of a COPY statement"),
    ("EXPLAIN ANALYZE SET threads = 1", "EXPLAIN ANALYZE of a SET statement"),
    ("explain create temp table t as select 1", "EXPLAIN of a CREATE statement"),
    ("explain /* x */ analyze pragma version", "EXPLAIN ANALYZE of a PRAGMA or other non-query statement"),
    ("set threads = 1", "a SET statement"),
    ("pragma version", "a PRAGMA or other non-query statement"),
    ("call pragma_version()", "a CALL statement"),
    ("copy fct_findings to '/tmp/x.csv'", "a COPY statement"),
    ("export database '/tmp/x'", "an EXPORT statement"),
    ("attach '/tmp/x.duckdb'", "an ATTACH statement"),
    ("load httpfs", "a LOAD statement"),
    ("install httpfs", "a LOAD statement"),
    ("checkpoint", "a CALL statement"),
    ("create temp table t as select 1", "a CREATE statement"),
    ("delete from fct_findings", "a DELETE statement"),
    ("select 1; select 2", "one statement at a time (2 given: SELECT, SELECT)"),
    ("select 1; drop table fct_findings", "one statement at a time"),
    ("", "no SQL statement given"),
])
def test_everything_else_is_refused_with_a_one_line_reason(sql, reason):
    with pytest.raises(ReadOnlyViolation) as e:
        check_statement(sql)
    assert reason in str(e.value) and str(e.value).startswith("read-only: ") and "\n" not in str(e.value)


def test_the_reader_maps_a_permission_error_to_a_clear_refusal(reader):
    with pytest.raises(ReadOnlyViolation, match=r"read-only: only the published marts can be read here \(.*disabled by configuration\)"):
        reader.query("select content from read_text('/etc/passwd')")


def test_an_endless_query_is_stopped_after_the_timeout_naming_the_setting(home):
    with open_reader(home, ReaderSettings(timeout_s=1.5, memory_limit="256MB", threads=1)) as r:
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match=r"stopped after 1.5 s.*MEDIARECON_QUERY_TIMEOUT_S=1.5"):
            r.query("select sum(hash(i)) from range(100000000000000) t(i)")
        assert 1.4 < time.monotonic() - started < 10
        assert r.query("select 42")[1] == [(42,)]  # the connection is usable again


def test_too_much_memory_names_the_setting(home):
    with open_reader(home, ReaderSettings(timeout_s=60, memory_limit="32MB", threads=1)) as r:
        with pytest.raises(ReaderError, match="MEDIARECON_QUERY_MEMORY_LIMIT=32MB"):
            r.query("select list(i) from range(50000000) t(i)")


def test_export_may_write_its_one_folder_and_nothing_else(home, tmp_path):
    marts = tmp_path / "export" / "marts"
    marts.mkdir(parents=True)
    with open_reader(home, ReaderSettings(), write_dir=marts) as r:
        r.copy_to("select * from fct_findings", marts / "fct_findings.csv", "header")
        with pytest.raises(ReadOnlyViolation):
            r.copy_to("select * from fct_findings", tmp_path / "elsewhere.csv", "header")
        with pytest.raises(ReadOnlyViolation):
            r.query(f"select content from read_text('{home.manifest}')")
    assert (marts / "fct_findings.csv").read_text().startswith("finding_type,amount")
    assert not (tmp_path / "elsewhere.csv").exists()


def test_reader_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MEDIARECON_QUERY_TIMEOUT_S", "12")
    monkeypatch.setenv("MEDIARECON_QUERY_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("MEDIARECON_QUERY_THREADS", "3")
    assert ReaderSettings.from_env() == ReaderSettings(timeout_s=12, memory_limit="512MB", threads=3)
    monkeypatch.setenv("MEDIARECON_QUERY_MEMORY_LIMIT", "lots")
    with pytest.raises(SettingsError, match="MEDIARECON_QUERY_MEMORY_LIMIT='lots' is not a size"):
        ReaderSettings.from_env()


def test_a_secret_never_prints_nor_pickles():
    s = Secret("p4ss-w0rd")
    assert repr(s) == str(s) == f"{s}" == "***" and s.reveal() == "p4ss-w0rd"
    with pytest.raises(TypeError, match="never serialised"):
        pickle.dumps(s)


def test_settings_print_no_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIARECON_CHORUS_CLIENT_SECRET", "cs-0123456789")
    monkeypatch.setenv("MEDIARECON_CHORUS_PASSWORD", "pw-0123456789")
    monkeypatch.setenv("MEDIARECON_ALERT_URLS", "mail=mailtos://u:smtp-0123456789@smtp.example.fr?to=a@b.fr")
    text = repr(Settings.from_env(tmp_path))
    assert "0123456789" not in text


@pytest.mark.parametrize("missing", ["CLIENT_ID", "CLIENT_SECRET", "LOGIN", "PASSWORD"])
def test_chorus_enabled_without_a_credential_stops_naming_it(monkeypatch, missing):
    monkeypatch.setenv("MEDIARECON_CHORUS_ENABLED", "true")
    monkeypatch.delenv("MEDIARECON_CHORUS_" + missing)
    with pytest.raises(SettingsError, match=f"MEDIARECON_CHORUS_ENABLED=true needs MEDIARECON_CHORUS_{missing}:"):
        ChorusSettings.from_env()
    monkeypatch.setenv("MEDIARECON_CHORUS_ENABLED", "false")
    assert not ChorusSettings.from_env().enabled  # off, nothing is required


def test_the_warehouse_file_and_its_wal_are_out_of_reach_too(reader, home):
    """Found here: with external access off, DuckDB 1.5.5 still lets read_blob read the attached file and
    COPY write its WAL paths (<file>.wal, .wal.recovery, .wal.checkpoint), so that a planted WAL replays
    into every later reader. Disabling the local file system once the file is attached closes that."""
    wal = str(home.published_db) + ".wal"
    for sql in [f"copy (select 1) to '{wal}'", f"select content from read_blob('{home.published_db}')",
                f"select content from read_text('{wal}')"]:
        with pytest.raises(duckdb.PermissionException, match="LocalFileSystem has been disabled"):
            raw(reader, sql)
    assert not os.path.exists(wal)


@pytest.mark.parametrize("accents", range(0, 60, 3))
def test_explain_cannot_be_fooled_by_multibyte_characters(reader, home, accents):
    """The tokenizer's positions are bytes: an accented comment once shifted the cut so that the check
    saw `select 1` while EXPLAIN ANALYZE COPY ran (found by a review)."""
    wal = f"{home.published_db}.wal"
    sql = (f"explain /*{'é' * accents}*/ analyze copy (select 'x' as x, 'select 1 /*' as y) to '{wal}' -- */")
    with pytest.raises(ReadOnlyViolation):
        reader.query(sql)
    assert not os.path.exists(wal)
    assert reader.query(f"explain /*{'é' * accents}*/ analyze select count(*) from fct_findings")[1]


def test_readers_side_by_side_and_beside_a_plain_connection_in_one_process(home):
    """DuckDB shares one instance per file in a process: readers with their own spill folders, and a
    plain read-only connection someone holds open, must not refuse each other."""
    plain = duckdb.connect(str(home.published_db), read_only=True)
    try:
        with open_reader(home, ReaderSettings()) as a, open_reader(home, ReaderSettings(threads=1)) as b:
            assert a.query("select count(*) from fct_findings")[1] == b.query("select count(*) from fct_findings")[1]
        assert plain.execute("select count(*) from fct_findings").fetchone() == (1,)
    finally:
        plain.close()


@pytest.mark.parametrize("sql", ["select * from enable_profiling(format='query_tree')",
                                 "select * from fct_findings, enable_logging(level='trace')",
                                 "select checkpoint()", "from force_checkpoint('memory')",
                                 "explain analyze select * from disable_profiling()",
                                 "with t as (select * from truncate_duckdb_logs()) select 1"])
def test_functions_that_change_the_connection_despite_the_lock_are_refused(reader, sql):
    """Found by a review: DuckDB 1.5.5 lets these SELECT-callable functions switch profiling and
    logging on (and checkpoint) although the configuration is locked."""
    with pytest.raises(ReadOnlyViolation, match=r"which changes the connection"):
        reader.query(sql)


def test_a_comment_after_analyze_still_explains(reader):
    assert reader.query("EXPLAIN ANALYZE /*x*/ select count(*) from fct_findings")[1]


def test_the_dbt_environment_is_put_back_after_the_call(monkeypatch):
    from mediarecon.warehouse.build import scoped_environment

    monkeypatch.setenv("MEDIARECON_BUILD_DB", "/before")
    monkeypatch.delenv("MEDIARECON_DUCKDB_S3_SECRET_ACCESS_KEY", raising=False)
    with scoped_environment({"MEDIARECON_BUILD_DB": "/build", "MEDIARECON_DUCKDB_S3_SECRET_ACCESS_KEY": "k3y"}):
        assert os.environ["MEDIARECON_DUCKDB_S3_SECRET_ACCESS_KEY"] == "k3y"
    assert os.environ["MEDIARECON_BUILD_DB"] == "/before" and "MEDIARECON_DUCKDB_S3_SECRET_ACCESS_KEY" not in os.environ
