"""After three real nightlies (the last with broken files): replay of a past night and of what was known at
a date, then the end-of-contract export and the purge with its certificate."""

import json
import shutil

import duckdb
import pytest

from mediarecon.cli import app
from tests.integration.nightly import (all_marts, cli, mediarecon)

pytestmark = pytest.mark.usefixtures("prefect_server", "chorus_pro")


def test_replay_rebuilds_a_past_night_and_as_of_answers_what_was_known(broken_run, tmp_path):
    home, _, _, _ = broken_run
    runs = json.loads(mediarecon("status", "--home", home, "--format", "json", "--runs", "10"))["runs"]
    succeeded = sorted((r for r in runs if r["status"] == "succeeded"), key=lambda r: r["run_id"])
    assert len(succeeded) == 3  # first, second (same inbox), broken (two more files)
    second = succeeded[1]
    assert second["inputs"]["files"] > 0 and second["dbt_vars"]["as_of_date"]
    # the warehouse the second run published is now the previous one
    published_then = all_marts(home / "warehouse" / "mediarecon.prev.duckdb")
    assert len(published_then) >= 18
    mediarecon("replay", second["run_id"], "--out", tmp_path / "replay", "--home", home)
    assert all_marts(tmp_path / "replay" / "mediarecon.duckdb") == published_then
    # as of the moment the second run ended: the broken run's files were not known yet
    mediarecon("replay", "--as-of", second["finished_at"], "--out", tmp_path / "as_of", "--home", home)
    assert all_marts(tmp_path / "as_of" / "mediarecon.duckdb") == published_then
    result = cli.invoke(app, ["replay", "20990101T000000Z-000000", "--out", str(tmp_path / "x"), "--home", str(home)])
    assert result.exit_code == 2 and "no run 20990101T000000Z-000000" in result.output


def test_end_of_contract_export_then_purge_with_a_certificate(broken_run, tmp_path):
    import hashlib
    import sqlite3

    source_home, _, _, _ = broken_run
    home = tmp_path / "home"
    shutil.copytree(source_home, home)
    refused = cli.invoke(app, ["purge", "--confirm", "--home", str(home)])
    assert refused.exit_code == 2 and "no export of this home" in refused.output
    out = tmp_path / "handover"
    mediarecon("export-all", "--out", out, "--home", home)
    # every file listed with its checksum, and every checksum right
    sums = dict(reversed(line.split("  ", 1)) for line in (out / "SHA256SUMS").read_text().splitlines())
    assert all(hashlib.sha256((out / name).read_bytes()).hexdigest() == digest for name, digest in sums.items())
    with sqlite3.connect(home / "landing" / "manifest.sqlite") as con:
        landed = con.execute("select landing_key, sha256 from files").fetchall()
    assert all(hashlib.sha256((out / "landed" / key).read_bytes()).hexdigest() == sha for key, sha in landed)
    marts = all_marts(home / "warehouse" / "mediarecon.duckdb")
    for name, rows in marts.items():
        assert f"marts/{name}.parquet" in sums and f"marts/{name}.csv" in sums
        assert duckdb.sql(f"select count(*) from '{out / 'marts' / (name + '.parquet')}'").fetchone()[0] == len(rows)
    assert "sha256sum -c SHA256SUMS" in (out / "README.md").read_text(encoding="utf-8")
    assert cli.invoke(app, ["purge", "--home", str(home)]).exit_code == 2  # no --confirm
    # an export older than the last run is not enough
    record = next((home / "exports" / "handover").glob("export-*.json"))
    saved = record.read_text()
    record.write_text(saved.replace('"exported_at": "', '"exported_at": "2000-01-01T00:00:00+00:00", "was": "'))
    stale = cli.invoke(app, ["purge", "--confirm", "--home", str(home)])
    assert stale.exit_code == 2 and "older than the last run" in stale.output
    record.write_text(saved)
    # a file dropped after the export would be destroyed un-exported: refused, named
    late = home / "inbox" / "ad_server" / "arrived_after_the_export.csv"
    late.write_text("Report Name,late\n", encoding="utf-8")
    refused = cli.invoke(app, ["purge", "--confirm", "--home", str(home)])
    assert refused.exit_code == 2 and "1 received file(s) are not in the export" in refused.output
    assert "inbox/ad_server/arrived_after_the_export.csv" in refused.output and late.exists()
    out = tmp_path / "export-again"  # exported again, the inbox's un-landed file with it
    mediarecon("export-all", "--out", out, "--home", home)
    assert (out / "inbox" / "ad_server" / "arrived_after_the_export.csv").read_text() == "Report Name,late\n"
    before = {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in home.rglob("*") if p.is_file()}
    mediarecon("purge", "--confirm", "--home", home)
    assert [p.name for p in home.rglob("*")] == ["DESTRUCTION_CERTIFICATE.json"]
    cert = json.loads((home / "DESTRUCTION_CERTIFICATE.json").read_text(encoding="utf-8"))
    assert {f["path"]: f["sha256"] for f in cert["inventory"]} == before
    assert cert["handed_over_to"] == str(out) and cert["software"].startswith("mediarecon ")
