"""The same dbt project on Apache Spark (MEDIARECON_ENGINE=spark): the labelled State-year built by both
engines publishes identical marts, on local[2] and on a standalone cluster on loopback."""

import json
import os

import pytest

from mediarecon.settings import Settings
from mediarecon.warehouse import build
from mediarecon.warehouse.spark import LoopbackCluster, _free_port
from tests.conftest import copy_inbox
from tests.integration.nightly import assert_labelled_anomalies_found, assert_same_marts, run

pytestmark = pytest.mark.usefixtures("prefect_server", "chorus_pro")


@pytest.fixture(scope="module")
def spark_run(state_year, tmp_path_factory, alert_receivers):
    """The nightly on its own home with the Spark engine, local[2] (the default master)."""
    home = copy_inbox(state_year, tmp_path_factory.mktemp("spark_home"))
    # the driver's heap (local[2] runs the executors in it): a small year needs little, CI has 4 GB for Spark
    # and dbt's unit tests, which a nightly skips by default: CI proves the project's SQL on Spark too
    engine = {"MEDIARECON_ENGINE": "spark", "MEDIARECON_BUILD_MEMORY_LIMIT": "1GB", "MEDIARECON_DBT_UNIT_TESTS": "true"}
    saved = {k: os.environ.get(k) for k in engine}
    os.environ.update(engine)
    try:
        summary = run(home)
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.update({k: v})
    return home, summary


def test_a_spark_night_publishes_the_marts_of_a_duckdb_night(first_run, spark_run):
    duck_home, duck_summary, _ = first_run
    spark_home, spark_summary = spark_run
    # Chorus Pro answers fetched at another moment are other bytes: lineage is compared on the same inputs below
    assert_same_marts(duck_home / "warehouse" / "mediarecon.duckdb", spark_home / "warehouse" / "mediarecon.duckdb",
                      lineage=False)
    assert spark_summary["findings"] == duck_summary["findings"]
    record = json.loads((spark_home / "runs" / f"{spark_summary['run_id']}.json").read_text(encoding="utf-8"))
    assert (record["status"], record["engine"]) == ("succeeded", "spark")
    assert list((spark_home / "runs" / "dbt" / "spark" / "warehouse" / "main.db").glob("fct_findings/*.parquet"))
    assert (spark_home / "exports" / "docs" / "data_dictionary.csv").exists()


def test_every_labelled_anomaly_is_found_on_spark(spark_run, state_year):
    home, summary = spark_run
    assert_labelled_anomalies_found(home, summary, state_year)


def test_a_loopback_standalone_cluster_builds_the_same_marts(first_run, tmp_path):
    """The validated Parquet of the DuckDB night, built by a master and a worker JVM on 127.0.0.1: every
    mart, lineage included, as the DuckDB engine published it. Models and seeds only: the tests ran on
    Spark in the night above."""
    home, summary, _ = first_run
    record = json.loads((home / "runs" / f"{summary['run_id']}.json").read_text(encoding="utf-8"))
    settings = Settings.from_env(str(home))
    with LoopbackCluster(tmp_path / "cluster", port=_free_port(), cores=2, memory="1g", log=print) as cluster:
        environment = {**build.build_environment(settings), "MEDIARECON_ENGINE": "spark",
                       "MEDIARECON_SPARK_MASTER": cluster.master_url,
                       "MEDIARECON_BUILD_DB": str(tmp_path / "cluster.duckdb"),
                       "MEDIARECON_BUILD_MEMORY_LIMIT": "1GB"}  # the driver's heap: the executor does the work
        build.run_dbt(["build", "--exclude", "resource_type:test", "resource_type:unit_test"], work_dir=tmp_path / "dbt",
                      environment=environment, dbt_vars=record["dbt_vars"])
        executors = (tmp_path / "cluster" / "worker").glob("app-*/*/stderr")
        assert any(executors), "no executor ran in the worker"
    assert_same_marts(home / "warehouse" / "mediarecon.duckdb", tmp_path / "cluster.duckdb")


def test_the_spark_cluster_command_serves_until_stopped_and_leaves_no_jvm(tmp_path):
    """`mediarecon spark-cluster` as an operator runs it: up on loopback, then SIGTERM (or Ctrl-C) stops
    the master and the worker with it."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    port = _free_port()
    p = subprocess.Popen([str(Path(sys.executable).parent / "mediarecon"), "spark-cluster", "--port", str(port),
                          "--work", str(tmp_path / "cluster")], stdout=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()
        assert first.startswith(f"Spark standalone cluster on spark://127.0.0.1:{port}: 1 worker"), first
        jvms = lambda: subprocess.run(["pgrep", "-f", f"deploy.*{port}"], capture_output=True, text=True).stdout.split()
        assert len(jvms()) >= 2  # the master (its port) and the worker (the master's URL)
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=60) == 0
        assert "Spark cluster stopped" in p.stdout.read()
        deadline = time.monotonic() + 10
        while jvms() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert jvms() == []
    finally:
        if p.poll() is None:
            p.kill()
