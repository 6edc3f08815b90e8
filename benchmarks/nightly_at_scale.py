"""Benchmark (not a test; `make benchmark`): the whole nightly on generated State-years, each phase set
against a lower bound measured in the same run on the same files, as ratios (this machine is noisy:
medians of several runs, and ratios, mean more than one time).

    .venv/bin/python benchmarks/nightly_at_scale.py [--scales 1,3,10] [--runs 3] [--seed 1]

For each scale: a State-year is generated once; each run lands it in a fresh home, runs the first
`mediarecon run` against the Chorus Pro simulator (its own process, as the real service), then a second
one with nothing new. Printed, and written to
benchmarks/results.md with the date and the machine:

- door (land + validate, every source, e-invoices included) and its ratio to DuckDB parsing and typing the
  CM360 files in one pass, every column used (the lower bound); and the ratio of its CM360 part (landing
  and validating those same files) to that pass. The files' door is timed on its own (the same
  functions in this process, on a fresh home): in the nightly it runs beside the Chorus Pro sync, which
  shares the cores (that time is printed too); the parse of the sync's documents is the nightly's own;
- Chorus Pro backfill in invoices/s, and (scale 1) the backfill alone with 100 ms of latency per call;
- dbt build wall time and its ratio to the sum of the nodes' own execution times (run_results.json);
- first and second nightly, ad-server rows/s of the door, the labelled anomalies found, and the memory
  peak of a nightly (the run's process and its workers: see `memory_peak`).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import gc
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("results.md")
BIN = Path(sys.executable).parent  # the commands installed beside this interpreter


def duckdb_single_pass(files: list[Path]) -> float:
    """Seconds for DuckDB to parse and type the CM360 files in one pass, every column used, each typed as
    the door types it. Reports come in more than one layout (with or without the Floodlight and video
    columns): one read per layout, all in one query."""
    import duckdb

    from mediarecon.ingest.checks import SQL_TYPES
    from schemas._columns import column_kinds
    from schemas.ad_server import HEADERS, AdServerDeliveryRow

    kinds = column_kinds(AdServerDeliveryRow)
    layouts: dict[tuple[str, ...], list[Path]] = {}
    for f in files:  # the header is the line after "Report Fields" (line 8 of a generated report)
        with open(f, encoding="utf-8") as lines:
            header = next(itertools.islice(lines, 7, None)).rstrip("\n")
        layouts.setdefault(tuple(header.split(",")), []).append(f)
    reads = []
    for header, group in layouts.items():
        columns = "{" + ", ".join(f"'{c}': '{SQL_TYPES[kinds[HEADERS[c]]]}'" for c in header) + "}"
        paths = "[" + ", ".join(f"'{p}'" for p in group) + "]"
        reads.append(f"select * from read_csv({paths}, skip=7, header=true, delim=',', quote='\"', nullstr='-',"
                     f" columns={columns}, ignore_errors=true)")
    every = sorted({c for header in layouts for c in header})
    used = ", ".join(f'count("{c}")' for c in every)
    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"select count(*), {used} from ({' union all by name '.join(reads)})").fetchall()
    return time.perf_counter() - t


def dbt_ratio(home: Path) -> tuple[float, float]:
    """(sum of the nodes' execution times, the build's elapsed time) from the last run_results.json."""
    results = next((home / "runs" / "dbt" / "target").rglob("run_results.json"))
    data = json.loads(results.read_text(encoding="utf-8"))
    return sum(r["execution_time"] for r in data["results"]), data["elapsed_time"]


@contextlib.contextmanager
def chorus_simulator(state: Path, *faults: str):
    """The Chorus Pro simulator in its own process, as the real service is (it would otherwise share the
    nightly's interpreter and memory): its URL, until the block ends."""
    sim = subprocess.Popen([str(BIN / "mediarecon-demo"), "chorus-sim", "--home", str(state), "--port", "0", *faults],
                           stdout=subprocess.PIPE, text=True)
    try:
        line = sim.stdout.readline()
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        if not url:
            raise RuntimeError(f"the Chorus Pro simulator did not start: {line!r}")
        yield url.group(1)
    finally:
        sim.terminate()
        sim.wait(30)


def chorus_env(url: str) -> dict:
    return {"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": url,
            "MEDIARECON_CHORUS_TOKEN_URL": url + "/api/oauth/token"}


def chorus_with_latency(state: Path, work: Path, latency_s: float, concurrency: int) -> tuple[float, int]:
    """Invoices/s of the Chorus Pro backfill alone (no Prefect) when every call takes `latency_s`."""
    import requests
    import requests.adapters

    from connectors.chorus_pro import ChorusProClient
    from connectors.landing_store import LocalLandingStore
    from mediarecon.ingest.chorus_pro import ChorusSync
    from mediarecon.ingest.sources import INBOX_FOLDERS
    from mediarecon.settings import ChorusSettings, Settings
    from mediarecon.state.manifest import Manifest

    home = Settings.from_env(work / f"latency-{concurrency}").home.ensure(INBOX_FOLDERS)
    with chorus_simulator(state, "--slow-s", str(latency_s)) as url, requests.Session() as session:
        s = ChorusSettings.from_env().model_copy(update=dict(api_url=url, token_url=url + "/api/oauth/token",
                                                             concurrency=concurrency))
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency))
        t = time.perf_counter()
        result = ChorusSync(home, ChorusProClient(session, s.client_config()), LocalLandingStore(home.landing),
                            Manifest(home.manifest), s, "benchmark").run()
        elapsed = time.perf_counter() - t
    shutil.rmtree(home.root, ignore_errors=True)
    return result.invoices / elapsed, result.invoices


def _process_tree(pid: int) -> list[int]:
    try:
        children = [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
    except OSError:
        return [pid]
    return [pid] + [p for c in children for p in _process_tree(c)]


def _status_mb(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) // 1024 for k, v in (line.split(":", 1) for line in lines) if k in ("VmHWM", "VmRSS")}


@contextlib.contextmanager
def memory_peak(pid: int, every_s: float = 0.5):
    """The memory peak of a process and its descendants, in GB (a dict filled when the block ends): the
    most any one of them held (its VmHWM, exact) or the tree held at once (VmRSS summed, sampled), whichever
    is more. Not ru_maxrss: a child forked from this benchmark (which has just generated a State-year)
    starts with this process's resident size as its high-water mark."""
    peak, hwm, done = {"gb": 0.0}, {}, threading.Event()

    def sample():
        while not done.is_set():
            tree = {p: _status_mb(p) for p in _process_tree(pid)}
            hwm.update({p: max(hwm.get(p, 0), s.get("VmHWM", 0)) for p, s in tree.items()})
            together = sum(s.get("VmRSS", 0) for s in tree.values())
            peak["gb"] = max(peak["gb"], together / 1024, max(hwm.values(), default=0) / 1024)
            done.wait(every_s)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def nightly(home: Path, env: dict) -> tuple[float, dict, float]:
    """One `mediarecon run` command: (wall seconds, its run record's summary, its memory peak in GB)."""
    before = set(home.joinpath("runs").glob("*.json")) if home.joinpath("runs").exists() else set()
    t = time.perf_counter()
    run = subprocess.Popen([str(BIN / "mediarecon"), "run", "--home", str(home)], env={**os.environ, **env},
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with memory_peak(run.pid) as peak:
        stderr = run.stderr.read()  # until the run closes it: it is then exiting, its memory measured
    status = run.wait()
    wall = time.perf_counter() - t
    if status != 0:
        raise RuntimeError(f"mediarecon run exited {status}: {stderr.decode()[-2000:]}")
    (record,) = set(home.joinpath("runs").glob("*.json")) - before
    return wall, json.loads(record.read_text(encoding="utf-8"))["summary"], peak["gb"]


def door_alone(state: Path, work: Path) -> tuple[float, float]:
    """Seconds of the files' door on its own: land every inbox folder, validate every file source, parse the
    e-invoices dropped in the inbox, in this process, on a fresh home; and of its CM360 part (landing and
    validating the files DuckDB's pass reads). The nightly runs the same functions, but beside the Chorus
    Pro sync, which shares the machine's cores with them."""
    from connectors.landing_store import LocalLandingStore
    from mediarecon.ingest import einvoices, tabular
    from mediarecon.ingest.sources import INBOX_FOLDERS, LANDED_ONLY, SOURCES
    from mediarecon.settings import Settings
    from mediarecon.state.manifest import Manifest

    home = Settings.from_env(work / "door").home.ensure(INBOX_FOLDERS)  # `work`: a fresh folder
    shutil.copytree(state / "inbox", home.inbox, dirs_exist_ok=True)
    manifest, store = Manifest(home.manifest), LocalLandingStore(home.landing)
    gc.freeze()  # as the flow does during its door

    def timed(step, *args) -> float:
        begin = time.perf_counter()
        step(home, *args, "door")
        return time.perf_counter() - begin

    t = time.perf_counter()
    took = {("land", s.name): timed(tabular.land_source, s, store, manifest)
            for s in [*SOURCES.values(), *LANDED_ONLY.values()]}
    took |= {("validate", s.name): timed(tabular.validate_source, s, manifest, store) for s in SOURCES.values()}
    for source in LANDED_ONLY:
        einvoices.parse_landed(home, source, manifest, store, "door")
    elapsed = time.perf_counter() - t
    gc.unfreeze()
    return elapsed, took["land", "ad_server"] + took["validate", "ad_server"]


def one_run(state: Path, work: Path) -> dict:
    """One run's figures, its homes under `work` (a fresh folder). Nothing is deleted until the scale is done:
    for some 30 s after a mass deletion, this machine's ext4 (no journal) scans past the freed inodes each time
    it creates a file (the door's file creations cost 7x more then: 4.9 % of its CPU, 0.7 % otherwise), which
    the product would pay for the benchmark's cleaning up."""
    from mediarecon.settings import ReaderSettings
    from mediarecon.state.home import Home
    from mediarecon.warehouse.reader import open_reader

    home = work / "home"
    work.mkdir(parents=True)
    subprocess.run([str(BIN / "mediarecon"), "init", "--home", str(home)], check=True, stdout=subprocess.DEVNULL)
    shutil.copytree(state / "inbox", home / "inbox", dirs_exist_ok=True)
    with chorus_simulator(state) as url:
        first_s, first, first_gb = nightly(home, chorus_env(url))
        nodes_s, dbt_s = dbt_ratio(home)
        second_s, second, second_gb = nightly(home, chorus_env(url))
    with open(state / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        labels = {(r["anomaly_type"], r["entity_key"]) for r in csv.DictReader(f)}
    with open_reader(Home(home), ReaderSettings()) as reader:
        found = set(reader.execute("select finding_type, entity_key from fct_findings").fetchall())
    timings = first["timings"]
    door_s, cm360_door_s = door_alone(state, work)
    return {"first_s": first_s, "second_s": second_s,
            # the door: the files' (alone, then in the nightly beside the sync), and the parse of the sync's
            # documents, which the nightly runs once the sync is done
            "door_s": door_s + timings["chorus_documents_s"], "cm360_door_s": cm360_door_s,
            "nightly_door_s": timings["land_s"] + timings["validate_s"] + timings["chorus_documents_s"],
            "chorus_s": first["chorus_pro"]["elapsed_s"], "invoices": first["chorus_pro"]["invoices"],
            "dbt_s": dbt_s, "nodes_s": nodes_s, "found": len(labels & found), "labels": len(labels),
            "extra": len(found - labels), "peak_gb": max(first_gb, second_gb),
            "second_dbt_s": second["timings"]["dbt_build_s"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1,3,10")
    ap.add_argument("--runs", type=int, default=3, help="runs at scale 1 (larger scales: one)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("MEDIARECON_INBOX_SETTLE_S", "0")  # the generated inbox was written a moment ago
    from simulators.chorus_pro import demo_credentials

    for name, value in demo_credentials().items():
        os.environ.setdefault(name, value)
    from mediarecon.flows.local_server import temporary_server

    with temporary_server(Path(tempfile.mkdtemp(prefix="mediarecon-bench-prefect-"))) as url:
        os.environ["PREFECT_API_URL"] = url  # before Prefect is imported (one_run imports the flow)
        rows = measure(args)
    write_results(rows)


def measure(args) -> list[dict]:
    from simulators.state_year import generate

    rows = []
    for scale in [float(s) for s in args.scales.split(",")]:
        work = Path(tempfile.mkdtemp(prefix=f"mediarecon-bench-{scale:g}-"))
        state = work / "state"
        g = generate(state, seed=args.seed, scale=scale)
        cm360 = sorted((state / "inbox" / "ad_server").glob("*.csv"))
        bound = statistics.median(duckdb_single_pass(cm360) for _ in range(5))
        runs = [one_run(state, work / f"run-{i}") for i in range(args.runs if scale == 1 else 1)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        latency = chorus_with_latency(state, work, 0.1, 4)[0] if scale == 1 else None
        rows.append({"scale": scale, "ad_rows": g.ad_server_rows, "files": len(cm360), "bound_s": bound,
                     "runs": len(runs), "latency_per_s": latency, **med})
        print(f"scale {scale:g}: {g.ad_server_rows} ad-server rows in {len(cm360)} CM360 files;"
              f" {len(runs)} run(s), medians:")
        print(f"  door (land + validate) {med['door_s']:6.1f} s = {med['door_s'] / bound:5.1f} x DuckDB's single"
              f" pass ({bound:.2f} s); {g.ad_server_rows / med['door_s']:,.0f} ad-server rows/s;"
              f" {med['nightly_door_s']:.1f} s in the nightly, beside the Chorus Pro sync; its CM360 part (the"
              f" files of DuckDB's pass) {med['cm360_door_s']:.1f} s = {med['cm360_door_s'] / bound:.1f} x")
        print(f"  chorus pro backfill    {med['chorus_s']:6.1f} s: {med['invoices'] / med['chorus_s']:,.0f} invoices/s"
              f" ({med['invoices']:.0f} invoices)" + (f"; with 100 ms per call, 4 in flight: {latency:,.1f} invoices/s"
                                                     if latency else ""))
        print(f"  dbt build              {med['dbt_s']:6.1f} s = {med['dbt_s'] / med['nodes_s']:5.2f} x the nodes'"
              f" own time ({med['nodes_s']:.1f} s)")
        print(f"  first nightly {med['first_s']:6.1f} s; second, nothing new {med['second_s']:6.1f} s"
              f" (dbt {med['second_dbt_s']:.1f} s);"
              f" labelled anomalies found {med['found']:.0f}/{med['labels']:.0f}, extra {med['extra']:.0f};"
              f" memory peak of a nightly {med['peak_gb']:.1f} GB")
        shutil.rmtree(work, ignore_errors=True)
    return rows


def write_results(rows: list[dict]) -> None:
    cores = os.cpu_count()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = ["# Benchmark results", "",
             f"{dt.date.today().isoformat()}, {platform.machine()} {cores} cores, {memory_gb:.0f} GiB,"
             f" Python {platform.python_version()}; `make benchmark` (medians; ratios to lower bounds measured"
             " in the same run)", "",
             "| scale | ad-server rows | runs | door s | door ÷ DuckDB pass | CM360 part ÷ DuckDB pass |"
             " door in the nightly s | ad rows/s |"
             " Chorus Pro invoices/s |"
             " … with 100 ms per call | dbt s | dbt ÷ nodes | first nightly s | second nightly s | labels found |"
             " peak GB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        latency = f"{r['latency_per_s']:.1f}" if r["latency_per_s"] else "—"
        lines.append(f"| {r['scale']:g} | {r['ad_rows']:,} | {r['runs']} | {r['door_s']:.1f} |"
                     f" {r['door_s'] / r['bound_s']:.1f} ({r['bound_s']:.2f} s) |"
                     f" {r['cm360_door_s'] / r['bound_s']:.1f} ({r['cm360_door_s']:.1f} s) |"
                     f" {r['nightly_door_s']:.1f} |"
                     f" {r['ad_rows'] / r['door_s']:,.0f} |"
                     f" {r['invoices'] / r['chorus_s']:,.0f} |"
                     f" {latency} |"
                     f" {r['dbt_s']:.1f} | {r['dbt_s'] / r['nodes_s']:.2f} |"
                     f" {r['first_s']:.1f} | {r['second_s']:.1f} | {r['found']:.0f}/{r['labels']:.0f}"
                     f" (+{r['extra']:.0f}) | {r['peak_gb']:.1f} |")
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
