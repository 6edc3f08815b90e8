"""The build on Apache Spark (MEDIARECON_ENGINE=spark): the same dbt project, run by dbt-spark in session
mode in a child process (its JVM lives as long as the build), then loaded into the DuckDB build file that
publish.py puts in place, so that every reader works as with the DuckDB engine.

In the child: a Spark session on MEDIARECON_SPARK_MASTER (`local[2]`, or a `spark://host:port` cluster),
each validated Parquet folder registered as a table with the schema of its `_schema.parquet` (Spark
skips files whose name starts with `_`, so a folder holding only that file has no schema of its own), then
`dbt build` on the `spark` target, then every table dbt built copied from Spark's Parquet into DuckDB,
mart columns typed as their contract says.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from mediarecon.paths import DBT_PROJECT_DIR
from mediarecon.settings import size_bytes


def installed() -> bool:
    """Whether the spark extra is installed (dbt-spark with its session mode, pyspark)."""
    from importlib.util import find_spec

    return find_spec("pyspark") is not None and find_spec("dbt.adapters.spark") is not None


def spark_conf(work: Path, master: str, memory_limit: str) -> dict[str, str]:
    """The session's settings. Everything the build writes stays under `work`; nothing listens beyond
    loopback; timestamps are UTC instants as in DuckDB; the driver's heap is the build's memory limit."""
    return {
        "spark.master": master,
        "spark.driver.memory": f"{max(size_bytes(memory_limit) // 2**20, 512)}m",
        "spark.app.name": "mediarecon-build",
        "spark.sql.catalogImplementation": "in-memory",  # the catalog lives as long as the build
        "spark.sql.warehouse.dir": str(work / "warehouse"),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.shuffle.partitions": "4",  # a year is small for Spark: 200 partitions is 200 tiny files
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",  # its progress bars would fill the nightly's log
        "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={work / 'tmp'}",
        "spark.local.dir": str(work / "tmp"),
    }


def _arrow_to_spark(t) -> str:
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz else "timestamp_ntz"
    names = {pa.int8(): "tinyint", pa.int16(): "smallint", pa.int32(): "int", pa.int64(): "bigint",
             pa.float32(): "float", pa.float64(): "double", pa.bool_(): "boolean", pa.date32(): "date",
             pa.binary(): "binary"}
    if t in names:
        return names[t]
    raise TypeError(f"no Spark type for Parquet type {t}")


def source_tables(environment: dict[str, str]) -> list[tuple[str, str, Path]]:
    """(schema, table, folder) of every dbt source, from the sources' `external_location` (the one
    place that says where a source's Parquet is, written for dbt-duckdb)."""
    found = []
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("_*__sources.yml")):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            location = source["config"]["meta"]["external_location"]
            location = re.sub(r"\{\{\s*env_var\('(\w+)'\)\s*\}\}", lambda m: environment[m.group(1)], location)
            # Spark reads by name whatever the options DuckDB is given (union_by_name)
            folder = re.fullmatch(r"read_parquet\('(.+)/\*\.parquet'(?:, [^)]*)?\)", location).group(1)
            for table in source["tables"]:
                name = table.get("identifier", table["name"])
                found.append((source.get("schema", source["name"]), name, Path(folder.replace("{name}", name))))
    return found


def register_sources(spark, environment: dict[str, str]) -> None:
    import pyarrow.parquet as pq

    for schema, table, folder in source_tables(environment):
        columns = ", ".join(f"`{f.name}` {_arrow_to_spark(f.type)}" for f in pq.read_schema(folder / "_schema.parquet"))
        spark.sql(f"create database if not exists `{schema}`")
        spark.sql(f"create table `{schema}`.`{table}` ({columns}) using parquet location '{folder}'")


# A contract's Spark type as DuckDB spells it: Spark's TIMESTAMP is an instant, DuckDB's TIMESTAMPTZ.
DUCKDB_TYPES = {"string": "varchar", "timestamp": "timestamp with time zone", "timestamp_ntz": "timestamp"}


def built_tables(target: Path) -> list[dict]:
    """Every table (model or seed) tonight's dbt build wrote, from its manifest and run results, with
    the columns its contract declares (none for a model without contract)."""
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    ran = {r["unique_id"] for r in results if r["status"] == "success"}
    tables = []
    for unique_id, node in manifest["nodes"].items():
        materialized = node["config"].get("materialized")
        if unique_id not in ran or node["resource_type"] not in ("model", "seed") or materialized not in ("table", "seed"):
            continue
        contract = node["config"].get("contract", {}).get("enforced")
        columns = [(c["name"], DUCKDB_TYPES.get(c["data_type"], c["data_type"]),
                    any(k["type"] == "not_null" for k in c.get("constraints", [])))
                   for c in node["columns"].values()] if contract else []
        tables.append({"schema": node["schema"], "name": node["alias"], "columns": columns})
    return sorted(tables, key=lambda t: (t["schema"], t["name"]))


def load_into_duckdb(work_dir: Path, build_db: Path, memory_limit: str) -> int:
    """Copy every table of the Spark build (Parquet under Spark's warehouse folder, `<schema>.db/<table>`)
    into the DuckDB build file: a mart is created from its contract (types, NOT NULL), as dbt-duckdb
    creates it, then filled; any other table takes the Parquet's types. Returns the tables copied."""
    import duckdb

    warehouse = work_dir / "spark" / "warehouse"
    tables = built_tables(work_dir / "target")
    con = duckdb.connect(str(build_db), config={"memory_limit": memory_limit})
    try:
        for schema in sorted({t["schema"] for t in tables}):
            con.execute(f'create schema if not exists "{schema}"')
        for t in tables:
            name = f'"{t["schema"]}"."{t["name"]}"'
            files = f"{warehouse / (t['schema'] + '.db') / t['name']}/*.parquet"
            if t["columns"]:
                con.execute(f"create table {name} (" + ", ".join(
                    f'"{c}" {type_}{" not null" if not_null else ""}' for c, type_, not_null in t["columns"]) + ")")
                con.execute(f"insert into {name} by name select * from read_parquet(?)", [files])
            else:
                con.execute(f"create table {name} as select * from read_parquet(?)", [files])
        con.execute("checkpoint")
    finally:
        con.close()
    return len(tables)


def build_in_child(command: list[str], args: list[str], work_dir: Path, environment: dict[str, str]) -> int:
    """Run dbt on Spark in a child process; its output is passed through. Returns its exit code."""
    (work_dir / "target" / "run_results.json").unlink(missing_ok=True)  # only tonight's results say what failed
    request = {"command": command, "args": args, "work_dir": str(work_dir)}
    env = {**os.environ, **environment, **java_environment()}
    return subprocess.run([sys.executable, "-m", "mediarecon.warehouse.spark", json.dumps(request)], env=env,
                          preexec_fn=_die_with_parent).returncode


def child_error(work_dir: Path) -> str | None:
    """Why the child stopped before or outside dbt (no Java, a source it could not register), if it said."""
    try:
        return (work_dir / "spark" / "error.txt").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _die_with_parent() -> None:
    """In the child before it runs: SIGTERM when the nightly's process dies (killed, cancelled), so that no
    orphaned build keeps writing under runs/dbt while the next night starts."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: the child then outlives a killed parent, as any subprocess does


def java_environment() -> dict[str, str]:
    """What Spark's JVMs need: Java 17 (the machine's unless JAVA_HOME says otherwise), loopback only."""
    env = {"SPARK_LOCAL_IP": "127.0.0.1"}
    if not os.environ.get("JAVA_HOME") and Path(DEFAULT_JAVA_HOME).is_dir():
        env["JAVA_HOME"] = DEFAULT_JAVA_HOME
    return env


DEFAULT_JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"


class LoopbackCluster:
    """A Spark standalone master and one worker on 127.0.0.1 (`mediarecon spark-cluster`, the tests):
    real multi-JVM execution, the driver in the build's child process, executors in the worker."""

    def __init__(self, work: Path, port: int = 7077, cores: int = 2, memory: str = "1g", log=print):
        self.work, self.port, self.cores, self.memory, self.log = Path(work), port, cores, memory, log
        self.web_port = _free_port()
        self.master_url = f"spark://127.0.0.1:{port}"
        self._processes: list[subprocess.Popen] = []

    def __enter__(self) -> "LoopbackCluster":
        import pyspark

        spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
        self.work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **java_environment(), "SPARK_HOME": str(spark_class.parent.parent),
               "SPARK_WORKER_DIR": str(self.work / "worker"), "SPARK_LOG_DIR": str(self.work / "logs")}
        master = ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(self.port),
                  "--webui-port", str(self.web_port)]
        worker = ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", str(self.cores),
                  "--memory", self.memory, "--webui-port", str(_free_port()), self.master_url]
        try:
            for name, args in (("master", master), ("worker", worker)):
                out = open(self.work / f"{name}.log", "wb")
                self._processes.append(subprocess.Popen([str(spark_class), *args], env=env, stdout=out,
                                                        stderr=subprocess.STDOUT, start_new_session=True))
                out.close()
            self._wait_for_worker()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.log(f"Spark standalone cluster on {self.master_url}: 1 worker, {self.cores} core(s), {self.memory}"
                 f" (web UI http://127.0.0.1:{self.web_port})")
        return self

    def _wait_for_worker(self, timeout_s: float = 120) -> None:
        import time
        import urllib.request

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for p, name in zip(self._processes, ("master", "worker")):
                if p.poll() is not None:
                    raise RuntimeError(f"the Spark {name} stopped (exit {p.returncode}): see {self.work / (name + '.log')}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/json/", timeout=2) as r:
                    if json.load(r).get("aliveworkers", 0) >= 1:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"no Spark worker registered with {self.master_url} within {timeout_s:.0f} s:"
                           f" see {self.work}/master.log and worker.log")

    def __exit__(self, *exc) -> None:
        import signal

        def signal_group(p, sig):  # spark-class's JVM is in the group even once the launcher is gone
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass

        for p in reversed(self._processes):
            signal_group(p, signal.SIGTERM)
        for p in self._processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                signal_group(p, signal.SIGKILL)
                p.wait()
        self._processes.clear()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child(request: dict) -> int:
    from dbt.cli.main import dbtRunner
    from pyspark.sql import SparkSession

    work = Path(request["work_dir"]) / "spark"
    shutil.rmtree(work, ignore_errors=True)
    (work / "tmp").mkdir(parents=True)
    builder = SparkSession.builder
    conf = spark_conf(work, os.environ.get("MEDIARECON_SPARK_MASTER", "local[2]"),
                      os.environ.get("MEDIARECON_BUILD_MEMORY_LIMIT", "2GB"))
    for k, v in conf.items():
        builder = builder.config(k, v)
    try:
        spark = builder.getOrCreate()
    except Exception as e:
        (work / "error.txt").write_text(f"the Spark session did not start: {type(e).__name__}: {e}", encoding="utf-8")
        raise
    spark.sparkContext.setLogLevel("ERROR")
    try:
        try:
            register_sources(spark, dict(os.environ))
        except Exception as e:
            (work / "error.txt").write_text(f"a source could not be registered: {type(e).__name__}: {e}",
                                            encoding="utf-8")
            raise
        result = dbtRunner().invoke([*request["command"], *request["args"]])
        if result.exception is not None:
            (work / "error.txt").write_text(str(result.exception), encoding="utf-8")
        return 0 if result.success else 1
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(_child(json.loads(sys.argv[1])))
