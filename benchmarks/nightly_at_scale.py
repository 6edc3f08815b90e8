"""Benchmark (not a test): generate a State-year at a given scale, run the real nightly flow on it,
print how long each phase took and how the findings compare with the labels.

    .venv/bin/python benchmarks/nightly_at_scale.py [--scale 1.0] [--seed 1] [--home DIR]
"""

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--home", type=Path, default=None, help="default: a new temporary folder")
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="mediarecon-bench-"))

    from simulators.state_year import generate

    t = time.perf_counter()
    g = generate(home, seed=args.seed, scale=args.scale)
    gen_s = time.perf_counter() - t
    inbox_mb = sum(p.stat().st_size for p in (home / "inbox").rglob("*") if p.is_file()) / 1e6

    from mediarecon.flows.nightly_reconciliation import nightly_reconciliation
    from mediarecon.settings import ChorusSettings
    from mediarecon.state.home import Home
    from mediarecon.warehouse.reader import open_reader
    from mediarecon.settings import ReaderSettings
    from simulators.chorus_pro import ChorusProSimulator, demo_credentials

    os.environ.update(demo_credentials())
    with ChorusProSimulator(home, ChorusSettings.from_env().client_config()) as sim:
        os.environ.update({"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": sim.url,
                           "MEDIARECON_CHORUS_TOKEN_URL": sim.url + "/api/oauth/token"})
        t = time.perf_counter()
        first = nightly_reconciliation(home=str(home))
        first_s = time.perf_counter() - t
        t = time.perf_counter()
        second = nightly_reconciliation(home=str(home))
        second_s = time.perf_counter() - t

    with open(home / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        labels = {(r["anomaly_type"], r["entity_key"]) for r in csv.DictReader(f)}
    with open_reader(Home(home), ReaderSettings()) as reader:
        found = set(reader.execute("select finding_type, entity_key from fct_findings").fetchall())
    rows = g.ad_server_rows + g.regie_rows + g.email_rows + g.order_lines + g.purchase_orders
    print(f"scale {args.scale}, seed {args.seed}: {g.campaigns} campaigns, {g.order_lines} order lines, "
          f"{g.ad_server_rows} ad-server rows, {g.files} files, {inbox_mb:.0f} MB")
    print(f"generate:            {gen_s:8.1f} s")
    print(f"first nightly run:   {first_s:8.1f} s  {first['timings']}")
    print(f"  chorus pro:        {first['chorus_pro']['invoices']} invoices,"
          f" {first['chorus_pro']['status_events']} status events in {first['timings']['chorus_pro_s']} s")
    ingest_s = first["timings"]["land_s"] + first["timings"]["validate_s"]
    print(f"  ingestion rate:    {rows / ingest_s:8.0f} rows/s ({rows} rows)")
    print(f"second run (no new): {second_s:8.1f} s  {second['timings']}")
    print(f"labels {len(labels)}, findings {len(found)}, found {len(labels & found)}, "
          f"missed {len(labels - found)}, extra {len(found - labels)}")
    print(f"home: {home}")


if __name__ == "__main__":
    main()
