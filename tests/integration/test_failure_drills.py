"""Failure drills of the nightly: kill -9 at chosen points, a full disk during the build; and the data
dictionary it writes. Each drill runs real nightlies in their own process on a copy of the inbox."""

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from mediarecon.state.home import Home
from mediarecon.state.runs import list_runs
from tests.conftest import copy_inbox
from tests.integration.nightly import FIRST_RUN_BUSINESS, all_marts, business_marts, mediarecon, run

pytestmark = pytest.mark.usefixtures("prefect_server", "chorus_pro")


# in the order a night reaches them; the Chorus Pro sync runs beside the door, so that its first page may
# come after the door's first validated file: a drill killing there still finds a sync to interrupt
KILL_POINTS = ["land:stored", "land:purchase_orders", "land:ad_server", "validate:written", "einvoices:written",
               "chorus:page", "validate:done", "dbt_build:start", "dbt_build:after:12", "publish:replaced",
               "publish:linked"]


def nightly_subprocess(home, preexec_fn=None, **env):
    """A real nightly in its own process (so that it can be killed), on the session's Prefect API."""
    from prefect.settings import PREFECT_API_URL

    environment = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), **env}
    environment.pop("MEDIARECON_ALERT_URLS", None)
    code = f"import mediarecon.flows\nfrom mediarecon.flows.nightly_reconciliation import nightly_reconciliation\nnightly_reconciliation(home={str(home)!r})"
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=900,
                          preexec_fn=preexec_fn)


def landed_rows(home) -> set:
    import sqlite3

    with sqlite3.connect(home / "landing" / "manifest.sqlite") as con:
        return set(con.execute("select source, sha256, landing_key from files").fetchall())


def lineage_is_landed(path, home) -> None:
    """Every file a mart row names as its source or evidence is a file of the landing zone."""
    import sqlite3

    from mediarecon.warehouse.publish import mart_tables

    with sqlite3.connect(home / "landing" / "manifest.sqlite") as m:
        landed = {r[0] for r in m.execute("select sha256 from files").fetchall()}
    con = duckdb.connect(str(path), read_only=True)
    try:
        for t in mart_tables(con):
            for c in ("source_file_sha256", "evidence_file_sha256"):
                if c in [d[0] for d in con.execute(f"describe {t}").fetchall()]:
                    named = {r[0] for r in con.execute(f"select distinct {c} from {t} where {c} is not null").fetchall()}
                    assert named <= landed, (t, c, sorted(named - landed)[:3])
    finally:
        con.close()


def test_kill_9_at_eleven_points_never_damages_and_the_next_run_catches_up(first_run, state_year, tmp_path):
    expected = dict(FIRST_RUN_BUSINESS)
    home = copy_inbox(state_year, tmp_path / "home")
    published = home / "warehouse" / "mediarecon.duckdb"
    for point in KILL_POINTS:
        p = nightly_subprocess(home, MEDIARECON_DRILL_KILL_AT=point)
        assert p.returncode == -9, f"{point}: not killed there\n{p.stderr[-3000:]}"
        # the published warehouse is a complete one, or there is none yet
        assert published.exists() == (KILL_POINTS.index(point) >= KILL_POINTS.index("publish:replaced")), point
        if published.exists():
            assert business_marts(published) == expected, point
            lineage_is_landed(published, home)
        # every file the manifest knows is in the landing zone, once
        for source, sha, key in landed_rows(home):
            assert (home / "landing" / key).is_file(), (point, key)
    summary = run(home)  # the next run completes...
    assert business_marts(published) == expected  # ...with the marts of an uninterrupted run
    runs = {r["run_id"]: r for r in list_runs(Home(home), limit=50)}
    assert sorted(r["status"] for r in runs.values()) == ["interrupted"] * len(KILL_POINTS) + ["succeeded"]
    assert all(r["interrupted_found_at"] for r in runs.values() if r["status"] == "interrupted")
    lineage_is_landed(published, home)

    first_home = first_run[0]
    sent = {(p.relative_to(state_year / "inbox").parts[0], hashlib.sha256(p.read_bytes()).hexdigest())
            for p in (state_year / "inbox").rglob("*") if p.is_file()}
    files_only = {(source, sha) for source, sha, _ in landed_rows(home) if not source.startswith("chorus_pro")}
    assert files_only == sent  # every file sent is landed, once (the manifest's key is source + sha256)
    import sqlite3

    def documents(h):
        with sqlite3.connect(h / "landing" / "manifest.sqlite") as con:
            return sorted(r[0] for r in con.execute(
                "select original_name from files where source = 'chorus_pro_documents'").fetchall())

    assert documents(home) == documents(first_home)  # every invoice document downloaded, once
    on_disk = {str(p.relative_to(home / "landing")) for p in (home / "landing").rglob("*")
               if p.is_file() and p.parent != home / "landing"}
    assert on_disk == {key for _, _, key in landed_rows(home)}
    assert summary["files_rejected"] == 0


def validated_ad_server(home) -> bool:
    import sqlite3

    if not (home / "landing" / "manifest.sqlite").exists():
        return False
    with sqlite3.connect(home / "landing" / "manifest.sqlite", timeout=30) as con:
        return con.execute("select count(*) from files where source = 'ad_server'"
                           " and status in ('validated', 'partial')").fetchone()[0] > 0


def test_the_chorus_pro_sync_runs_beside_the_door_and_a_kill_9_of_the_run_stops_it_too(state_year, tmp_path):
    """The sync has its own process (the door works meanwhile); a kill -9 of the nightly must not leave it
    calling Chorus Pro and writing the manifest under the next run."""
    import time

    from prefect.settings import PREFECT_API_URL

    from mediarecon.settings import ChorusSettings
    from simulators.chorus_pro import ChorusProSimulator, Faults

    home = copy_inbox(state_year, tmp_path / "home")
    faults = Faults(slow_s=0.3)  # the sync takes minutes: it is still calling when the run is killed
    with ChorusProSimulator(state_year, ChorusSettings.from_env().client_config(), faults=faults) as sim:
        env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "MEDIARECON_CHORUS_API_URL": sim.url,
               "MEDIARECON_CHORUS_TOKEN_URL": sim.url + "/api/oauth/token"}
        env.pop("MEDIARECON_ALERT_URLS", None)
        code = ("import mediarecon.flows\nfrom mediarecon.flows.nightly_reconciliation import nightly_reconciliation\n"
                f"nightly_reconciliation(home={str(home)!r})")
        run = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while not (faults.arrivals and validated_ad_server(home)):  # the door has validated the CM360 files
                assert run.poll() is None and time.monotonic() < deadline, "no sync, or no door"
                time.sleep(0.1)
            calls = len(faults.arrivals)
            time.sleep(1)
            assert len(faults.arrivals) > calls, "the door waited for the sync"  # which is still calling
            children = [int(c) for t in Path(f"/proc/{run.pid}/task").iterdir()
                        for c in (t / "children").read_text().split()]
            workers = [c for c in children if "multiprocessing" in Path(f"/proc/{c}/cmdline").read_text()]
            assert workers, "the sync does not run in a process of its own"
        finally:
            run.kill()
            run.wait()
        assert all(_gone(w, within_s=5) for w in workers), "the sync outlived its run"
        calls = len(faults.arrivals)
        time.sleep(1.5)
        assert len(faults.arrivals) == calls, "Chorus Pro is still being called after the run was killed"


def test_a_full_disk_during_the_build_fails_clearly_and_leaves_the_published_warehouse(first_run, tmp_path):
    """The build may not grow a file past 8 MB (RLIMIT_FSIZE: writes fail as on a full disk)."""
    import resource

    source_home, _, _ = first_run
    home = tmp_path / "home"
    shutil.copytree(source_home, home)
    published = home / "warehouse" / "mediarecon.duckdb"
    inode, before = published.stat().st_ino, all_marts(published)
    limit = 8 * 1024 * 1024

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    p = nightly_subprocess(home, preexec_fn=small_disk)
    assert p.returncode == 1, p.stderr[-3000:]
    assert "File too large" in p.stdout + p.stderr
    assert published.stat().st_ino == inode and all_marts(published) == before
    last = json.loads(mediarecon("status", "--home", home, "--format", "json"))["runs"][0]
    assert last["status"] == "failed" and "File too large" in last["message"]


def test_the_nightly_writes_a_bilingual_data_dictionary_served_on_loopback(first_run):
    import urllib.request

    home, _, _ = first_run
    docs = home / "exports" / "docs"
    manifest = json.loads((docs / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(home / "warehouse" / "mediarecon.duckdb"), read_only=True)
    try:
        from mediarecon.warehouse.publish import mart_tables

        columns = [(t, c[0]) for t in mart_tables(con) for c in con.execute(f"describe {t}").fetchall()]
    finally:
        con.close()
    assert len(columns) > 250
    for table, column in columns:
        text = manifest["nodes"][f"model.mediarecon.{table}"]["columns"][column]["description"]
        en, fr = text.split(" — FR: ")
        assert en.startswith("EN: ") and len(en) > 6 and len(fr) > 2 and "pas encore de description" not in fr, \
            (table, column)
    with open(docs / "data_dictionary.csv", encoding="utf-8-sig") as f:
        assert len(list(csv.reader(f, delimiter=";"))) == len(columns) + 1
    proc = subprocess.Popen([sys.executable, "-m", "mediarecon.cli", "docs", "--home", str(home), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split(" on ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "manifest.json", timeout=10) as r:
            assert json.loads(r.read())["nodes"]["model.mediarecon.fct_findings"]
        with urllib.request.urlopen(url, timeout=10) as r:
            assert b"dbt" in r.read()[:5000].lower()
    finally:
        proc.terminate()
        proc.wait(10)


def _gone(pid: int, within_s: float = 15) -> bool:
    import time

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except OSError:
            return True
        if state == "Z":  # dead, waiting for its (dead) parent's reaper
            return True
        time.sleep(0.2)
    return False


def test_a_killed_run_takes_its_prefect_server_along_and_a_stale_one_is_stopped_at_start(state_year, tmp_path):
    from mediarecon.ingest.sources import INBOX_FOLDERS

    home = copy_inbox(state_year, tmp_path / "home")
    Home(home).ensure(INBOX_FOLDERS)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # `run` starts its own server
    cli = [str(Path(sys.executable).parent / "mediarecon"), "run", "--home", str(home)]
    p = subprocess.run(cli, env={**env, "MEDIARECON_DRILL_KILL_AT": "land:ad_server"}, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == -9, p.stderr[-3000:]
    [pid_file] = (home / "prefect").glob("temporary-server-*.json")
    left = json.loads(pid_file.read_text())
    assert left["run_pid"] == int(pid_file.stem.rsplit("-", 1)[1])
    assert _gone(left["pid"]), "the Prefect server outlived its run"

    # a server some older run left listening (started without the parent-death signal)
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid no longer runs: the older run is gone
    orphan = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
                               "--host", "127.0.0.1", "--port", "0"], env={**env, "PREFECT_HOME": str(home / "prefect")},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        (home / "prefect" / f"temporary-server-{dead.pid}.json").write_text(json.dumps(
            {"pid": orphan.pid, "port": 0, "run_pid": dead.pid, "started_at": "2026-11-30T03:00:00+0100"}))
        p = subprocess.run(cli, env={**env, "MEDIARECON_DRILL_KILL_AT": "land:purchase_orders"}, capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == -9, p.stderr[-3000:]
        assert (f"a Prefect server left by an earlier run (pid {orphan.pid}, port 0, started 2026-11-30T03:00:00+0100)"
                " was still running: stopped") in p.stderr
        assert orphan.wait(15) is not None
    finally:
        orphan.kill()
