"""Both engines' dbt build on the same validated Parquet (docs/scale_out.md, "Measured times"). Not a test.

    .venv/bin/python benchmarks/engines.py HOME [--runs N] [--master local[2]]

HOME is a home a nightly has run on (its last succeeded run gives the dbt vars). Each run times
`dbt build` on DuckDB, then on Spark (the child process, its JVM start and the load into DuckDB
included), each into a build file of its own, and checks that both give the same marts (money exactly,
doubles within 1e-9 relative). Prints the medians and Spark ÷ DuckDB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("home", type=Path)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--keep", type=Path, help="keep both build files in this folder (else a temporary one)")
    args = ap.parse_args()

    from mediarecon.settings import Settings
    from mediarecon.state.runs import list_runs
    from mediarecon.warehouse import build
    from tests.integration.nightly import assert_same_marts

    settings = Settings.from_env(str(args.home))
    record = next((r for r in list_runs(settings.home, 50) if r.get("status") == "succeeded" and "dbt_vars" in r), None)
    if record is None:
        sys.exit(f"{args.home}: no succeeded run to take the dbt vars from: run a nightly first")
    times: dict[str, list[float]] = {"duckdb": [], "spark": []}
    with (tempfile.TemporaryDirectory(prefix="engines-") if args.keep is None else contextlib.nullcontext(args.keep)) as tmp:
        Path(tmp).mkdir(parents=True, exist_ok=True)
        for n in range(args.runs):
            for engine in times:
                out = Path(tmp) / f"{engine}.duckdb"
                out.unlink(missing_ok=True)
                environment = {**build.build_environment(settings), "MEDIARECON_ENGINE": engine,
                               "MEDIARECON_SPARK_MASTER": args.master, "MEDIARECON_BUILD_DB": str(out)}
                start = time.perf_counter()
                build.run_dbt(["build"], work_dir=Path(tmp) / engine, environment=environment,
                              dbt_vars=record["dbt_vars"], log=lambda m: None)
                times[engine].append(time.perf_counter() - start)
                print(f"run {n + 1}: {engine} {times[engine][-1]:.1f} s", flush=True)
            try:
                assert_same_marts(Path(tmp) / "duckdb.duckdb", Path(tmp) / "spark.duckdb")
                print(f"run {n + 1}: same marts on both engines", flush=True)
            except AssertionError as e:
                print(f"run {n + 1}: THE MARTS DIFFER: {e}", flush=True)
    duck, spark = statistics.median(times["duckdb"]), statistics.median(times["spark"])
    print(json.dumps({"home": str(args.home), "runs": args.runs, "master": args.master,
                      "duckdb_build_s": round(duck, 1), "spark_build_s": round(spark, 1),
                      "spark_over_duckdb": round(spark / duck, 2), "threads": settings.dbt_threads}))


if __name__ == "__main__":
    main()
