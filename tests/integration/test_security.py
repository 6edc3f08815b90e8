"""The auditor's path reads the published marts and nothing else; secrets are never stored.

One nightly through the installed `mediarecon` command, as production runs it: Chorus Pro (the
simulator on loopback) with distinctive credentials, alerts to an SMTP server that requires a password
and to a webhook whose URL carries one, Prefect's local server with its database under the home. Then
every file under the home (Prefect's database and its WAL included) and the console are searched for
the secrets, and every hostile probe of the read path is tried against the published warehouse."""

import base64
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import tree_state
from tests.receivers import Hits, SmtpReceiver, WebhookReceiver

MEDIARECON = str(Path(sys.executable).parent / "mediarecon")
DEMO = str(Path(sys.executable).parent / "mediarecon-demo")
CHORUS = {"MEDIARECON_CHORUS_CLIENT_ID": "cid-7f3a9c2e51b8",
          "MEDIARECON_CHORUS_CLIENT_SECRET": "csec-Q8zX4mV1rT6kP0",
          "MEDIARECON_CHORUS_LOGIN": "TECH_audit_9d4e6b@cpro.fr",
          "MEDIARECON_CHORUS_PASSWORD": "cpw-Zr5Lq2Wn8Ys3Ua"}
SMTP_PASSWORD = "smtp-Hx7Kp3Vd9Qe2Lb"
HOOK_PASSWORD = "hook-Tj4Nc8Rb6Mw1Gs"


def environment(**extra) -> dict:
    """The process environment of a person's shell: no test Prefect server, no Prefect home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "PREFECT_HOME"))}
    env.update(CHORUS)
    env.update(extra)
    return env


def sh(*args, check=True, timeout=900, **env):
    p = subprocess.run([MEDIARECON, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       env=environment(**env))
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    home = tmp_path_factory.mktemp("secure") / "home"
    subprocess.run([DEMO, "generate", "--seed", "4", "--scale", "0.02", "--out", str(home)], check=True,
                   capture_output=True, env=environment())
    with SmtpReceiver(login="alertes", password=SMTP_PASSWORD) as smtp, WebhookReceiver() as hook:
        alert_urls = (f"astreinte={smtp.url('astreinte@sig.gouv.fr')},"
                      f" hook=json://alertes:{HOOK_PASSWORD}@127.0.0.1:{hook.port}/alertes")
        sim = subprocess.Popen([DEMO, "chorus-sim", "--home", str(home), "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=environment())
        try:
            first = sim.stdout.readline()
            url = first.split(" on ", 1)[1].split(" ", 1)[0]
            run = sh("run", "--home", home, check=False, MEDIARECON_CHORUS_ENABLED="true", MEDIARECON_CHORUS_API_URL=url,
                     MEDIARECON_CHORUS_TOKEN_URL=url + "/api/oauth/token", MEDIARECON_ALERT_URLS=alert_urls)
        finally:
            sim.terminate()
            rest = sim.communicate(timeout=30)[0]
        assert run.returncode == 0, run.stdout + run.stderr
    return home, first + rest + run.stdout + run.stderr, smtp, hook


def needles() -> dict[str, bytes]:
    account = f"{CHORUS['MEDIARECON_CHORUS_LOGIN']}:{CHORUS['MEDIARECON_CHORUS_PASSWORD']}"
    found = {name: value.encode() for name, value in CHORUS.items()}
    found.update({"SMTP password": SMTP_PASSWORD.encode(), "webhook password": HOOK_PASSWORD.encode(),
                  "cpro-account": base64.b64encode(account.encode()),
                  "webhook basic auth": base64.b64encode(f"alertes:{HOOK_PASSWORD}".encode())})
    return found


def test_no_secret_in_any_file_of_the_home_nor_prefect_database_nor_the_console(nightly):
    home, console, smtp, hook = nightly
    assert "chorus pro:" in console and "alerts:" in console
    # the secrets were really used: the SMTP login, the webhook's basic auth
    assert smtp.logins > 0 and smtp.messages and hook.posts
    assert base64.b64encode(f"alertes:{HOOK_PASSWORD}".encode()).decode() in hook.authorizations[0]
    prefect_db = home / "prefect" / "prefect.db"
    assert prefect_db.exists(), "Prefect's local database lives under the home"
    leaks = []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        leaks += [(str(path.relative_to(home)), name) for name, value in needles().items() if value in data]
    leaks += [("console", name) for name, value in needles().items() if value.decode() in console]
    assert leaks == []
    with sqlite3.connect(prefect_db) as con:
        params = {name: json.loads(p) for name, p in
                  con.execute("select f.name, r.parameters from flow_run r join flow f on f.id = r.flow_id")}
    assert params["nightly_reconciliation"] == {"home": str(home)}
    assert set(params) == {"nightly_reconciliation"}  # the Chorus Pro sync is a task of it


def test_the_prefect_run_is_named_by_its_date_and_the_short_id_its_run_record_ends_with(nightly):
    import re

    home, _, _, _ = nightly
    with sqlite3.connect(home / "prefect" / "prefect.db") as con:
        (name,) = con.execute("select r.name from flow_run r join flow f on f.id = r.flow_id"
                              " where f.name = 'nightly_reconciliation'").fetchone()
        (flow_run_id,) = con.execute("select id from flow_run").fetchone()
    (record,) = (home / "runs").glob("*.json")
    run_id = json.loads(record.read_text(encoding="utf-8"))["run_id"]
    short = flow_run_id.replace("-", "")[:6]
    assert re.fullmatch(rf"nightly-\d{{4}}-\d{{2}}-\d{{2}}-{short}", name) and run_id.endswith(f"-{short}")


def test_every_probe_of_the_read_path_is_refused_and_the_home_is_unchanged(nightly, tmp_path):
    from typer.testing import CliRunner

    from mediarecon.cli import app

    home, _, _, _ = nightly
    hits = Hits()
    warehouse = home / "warehouse" / "mediarecon.duckdb"
    before = tree_state(home)
    cli = CliRunner()

    def refused(*args, code=1, says="read-only"):
        result = cli.invoke(app, [str(a) for a in args])
        assert result.exit_code == code and says in result.output, (args, result.output)
        assert not any(v.decode() in result.output for v in needles().values())
        return result.output

    for sql in [
        "select content from read_text('/etc/passwd')",
        "select * from read_blob('/etc/passwd')",
        "select * from glob('/root/**')",
        f"select * from read_parquet('{home}/validated/**/*.parquet')",
        f"select content from read_text('{hits.url}')",
        f"select * from read_csv('{hits.url}')",
        f"explain analyze copy (select 1 as x) to '{warehouse}'",
        f"explain analyze copy (select 1 as x) to '{warehouse}.wal'",
        f"explain analyze copy (select '2025-03-01' as d) to '{home}/inbox/planned_pauses/x.csv'",
        f"copy fct_findings to '{home}/inbox/planned_pauses/x.csv'",
        "explain analyze set threads = 64",
        "set memory_limit = '20GB'",
        "load httpfs",
        "install httpfs",
        "create temp table t as select 1",
        "pragma version",
        "call pragma_version()",
        "checkpoint",
        f"export database '{tmp_path / 'exported'}'",
        f"attach '{tmp_path / 'other.duckdb'}' as other",
        "select 1; select 2",
        "drop table fct_findings",
    ]:
        refused("query", "--home", home, sql)
    # a file name is no table either (no replacement scan without file access)
    refused("query", "--home", home, f"select * from '{home}/landing/manifest.sqlite'", says="Catalog Error")
    # no function reads the environment, where the secrets of the process are
    out = cli.invoke(app, ["query", "--home", str(home), "select getenv('MEDIARECON_CHORUS_PASSWORD')"]).output
    assert "error:" in out and CHORUS["MEDIARECON_CHORUS_PASSWORD"] not in out

    # --out: never into the home, never over a file without --force, not even through a symlink
    outside = tmp_path / "mine.csv"
    outside.write_text("keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(warehouse)
    for target in [warehouse, home / "landing" / "manifest.sqlite", home / "inbox" / "planned_pauses" / "x.csv",
                   home / "runs" / ".." / "validated" / "x.csv", home / "exports" / "x.csv"]:
        for command in (["query", "select * from fct_findings"], ["audit", "late_payments"]):
            refused(*command, "--home", home, "--format", "csv", "--out", target, "--force", code=2,
                    says="is inside the home folder")
    refused("query", "select 1", "--home", home, "--out", link, "--force", code=2, says="is inside the home folder")
    refused("query", "select 1", "--home", home, "--out", "/dev/null", "--force", code=2, says="is not a regular file")
    refused("audit", "late_payments", "--home", home, "--out", outside, code=2, says="exists: add --force")
    assert outside.read_text() == "keep me\n"
    assert hits.count == 0
    assert not (tmp_path / "exported").exists() and not (tmp_path / "other.duckdb").exists()
    assert tree_state(home) == before

    # what the auditor is there for still works, outside the home
    result = cli.invoke(app, ["audit", "late_payments", "--home", str(home), "--format", "csv", "--out", str(outside),
                              "--force"])
    assert result.exit_code == 0, result.output
    assert outside.read_text(encoding="utf-8").startswith("\ufeffsupplier_invoice_key;")  # French CSV, for Excel
    new = tmp_path / "findings.xlsx"
    result = cli.invoke(app, ["query", "--home", str(home), "--format", "xlsx", "--out", str(new),
                              "select finding_type, count(*) as n from fct_findings group by 1"])
    assert result.exit_code == 0 and new.stat().st_size > 0, result.output
    assert tree_state(home) == before


def test_an_endless_query_stops_after_the_timeout_with_the_memory_and_threads_set(nightly):
    home, _, _, _ = nightly
    started = time.monotonic()
    p = sh("query", "--home", home, "select sum(hash(i)) from range(100000000000000) t(i)", check=False, timeout=120,
           MEDIARECON_QUERY_TIMEOUT_S="3")
    assert p.returncode == 1 and "MEDIARECON_QUERY_TIMEOUT_S=3" in p.stderr
    assert time.monotonic() - started < 60
    p = sh("query", "--home", home, "--format", "csv", "select name, value from duckdb_settings() where name in"
           " ('memory_limit', 'threads', 'enable_external_access', 'lock_configuration') order by name",
           MEDIARECON_QUERY_MEMORY_LIMIT="300MB", MEDIARECON_QUERY_THREADS="1")
    assert dict(list(csv.reader(io.StringIO(p.stdout), delimiter=";"))[1:]) == {
        "enable_external_access": "false", "lock_configuration": "true", "memory_limit": "286.1 MiB", "threads": "1"}


def test_the_whole_query_process_is_bounded_and_ctrl_c_stops_it(nightly):
    """DuckDB's memory limit misses big lists and strings (found by a review: 10 GB for a 100 MB limit);
    the console script caps its whole process at the limit + 2 GiB, and Ctrl-C stops a query at once."""
    import signal

    home, _, _, _ = nightly
    started = time.monotonic()
    p = sh("query", "--home", home, "select len(list_sort(list_reverse(range(100000000)))) as n", check=False,
           timeout=120, MEDIARECON_QUERY_MEMORY_LIMIT="100MB", MEDIARECON_QUERY_TIMEOUT_S="60")
    assert p.returncode == 1 and "MEDIARECON_QUERY_MEMORY_LIMIT=100MB" in p.stderr, p.stderr
    assert time.monotonic() - started < 60
    proc = subprocess.Popen([MEDIARECON, "query", "--home", str(home), "select count(*) from range(10000000000000) t(i)"],
                            stderr=subprocess.PIPE, text=True, env=environment(),
                            # a background job inherits SIGINT ignored; a person's terminal does not
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        time.sleep(8)  # started and inside DuckDB (the imports take 2-3 s on a loaded machine)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 130 and "interrupted (Ctrl-C): nothing written" in proc.stderr.read()
    finally:
        proc.kill()  # never leave a runaway query behind a failed assertion
        proc.wait()


def test_chorus_enabled_without_a_credential_stops_at_start_naming_it(tmp_path):
    env = environment(MEDIARECON_CHORUS_ENABLED="true")
    env.pop("MEDIARECON_CHORUS_PASSWORD")
    p = subprocess.run([MEDIARECON, "run", "--home", str(tmp_path / "home")], capture_output=True, text=True,
                       timeout=120, env=env)
    assert p.returncode == 2
    assert "MEDIARECON_CHORUS_ENABLED=true needs MEDIARECON_CHORUS_PASSWORD" in p.stderr
    assert not (tmp_path / "home").exists()  # nothing ran
    env.pop("MEDIARECON_CHORUS_LOGIN")
    env["MEDIARECON_CHORUS_ENABLED"] = "false"
    p = subprocess.run([DEMO, "chorus-sim", "--home", str(tmp_path), "--port", "0"], capture_output=True,
                       text=True, timeout=120, env=env)
    assert p.returncode == 1
    assert "MEDIARECON_CHORUS_LOGIN, MEDIARECON_CHORUS_PASSWORD" in p.stderr
