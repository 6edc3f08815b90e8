"""The one way dbt is invoked: the nightly build, its docs and a replay all go through `run_dbt`.

dbt writes only `warehouse/build/mediarecon.duckdb` (publish.py renames it into place); it reads its
profile and sources from environment variables, set around each call and put back.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from mediarecon.paths import DBT_PROJECT_DIR
from mediarecon.ingest.storage import duckdb_s3_environment, validated_location
from mediarecon.settings import Settings
from mediarecon.state.home import Home


def prepare_build(home: Home) -> Path:
    """Start every build from an empty file: a run never inherits a previous, possibly half, build."""
    build = home.build_db
    build.parent.mkdir(parents=True, exist_ok=True)
    for p in (build, build.with_name(build.name + ".wal")):
        p.unlink(missing_ok=True)
    return build


@contextmanager
def scoped_environment(values: dict[str, str]):
    """dbt reads its profile and sources from environment variables: set them around one dbt call and
    put back what was there, so that nothing of a build (S3 keys included) lingers in the process."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class BuildError(RuntimeError):
    pass


def build_environment(settings: Settings) -> dict[str, str]:
    """What the nightly's dbt calls read from the environment: the engine, the build file, the Parquet
    folders, threads, memory, and the S3 settings of the profile."""
    return {
        "MEDIARECON_ENGINE": settings.engine,
        "MEDIARECON_SPARK_MASTER": settings.spark_master,
        "MEDIARECON_BUILD_DB": str(settings.home.build_db),
        "MEDIARECON_VALIDATED_DIR": validated_location(settings),
        "MEDIARECON_QUARANTINE_DIR": str(settings.home.quarantine),
        "MEDIARECON_DBT_THREADS": str(settings.dbt_threads),
        "MEDIARECON_BUILD_MEMORY_LIMIT": settings.build_memory_limit,
        **duckdb_s3_environment(settings),
    }


# `mediarecon run --verbose`: dbt's own lines on the console as well as in runs/dbt/logs/dbt.log
DBT_CONSOLE = "MEDIARECON_DBT_CONSOLE"


def build_command(settings: Settings) -> list[str]:
    """`dbt build` as the nightly runs it: models, seeds, data tests and contracts on the night's data;
    the unit tests only with MEDIARECON_DBT_UNIT_TESTS=true (they do not depend on the data)."""
    return ["build"] if settings.dbt_unit_tests else ["build", "--exclude-resource-type", "unit_test"]


def reuse_parse(built: Path, work_dir: Path) -> None:
    """Let a dbt call after the build start from the build's parse (dbt's partial_parse.msgpack) instead of
    parsing the whole project again; dbt itself checks that files, vars and profile are unchanged. The
    build's manifest.json comes along: a call that finds nothing to parse does not write one."""
    (work_dir / "target").mkdir(parents=True, exist_ok=True)
    for name in ("partial_parse.msgpack", "manifest.json"):
        if (built / "target" / name).is_file():
            shutil.copyfile(built / "target" / name, work_dir / "target" / name)


def _node_results(progress):
    """A dbt callback that calls progress(done, total) as each node finishes (its result line)."""
    done = 0

    def on_event(event) -> None:
        nonlocal done
        name = event.info.name
        if name.startswith("Log") and name.endswith("Result") and getattr(event.data, "total", 0):
            done += 1
            progress(done, event.data.total)

    return on_event


def run_dbt(command: list[str], *, work_dir: Path, environment: dict[str, str], dbt_vars: dict | None = None,
            log=print, progress=None) -> None:
    """Run `dbt <command>` on the shipped project, its target and logs under `work_dir`, with
    `environment` set for the call only; raise BuildError naming every node that errored or failed.

    With MEDIARECON_ENGINE=spark in `environment`, `dbt build` runs on Spark in a child process and its
    tables are then loaded into MEDIARECON_BUILD_DB; every other command (docs) reads that DuckDB file."""
    args = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
            "--no-use-colors"]  # dbt colours its messages themselves: then its log file holds terminal escapes
    if os.environ.get(DBT_CONSOLE) != "true":  # dbt's node lines stay in the log file; errors still show
        args.append("--quiet")
    if dbt_vars is not None:
        args += ["--vars", json.dumps(dbt_vars)]
    name = " ".join(command)
    if environment.get("MEDIARECON_ENGINE") == "spark" and command[:1] == ["build"]:
        from mediarecon.warehouse import spark

        if not spark.installed():
            raise BuildError("MEDIARECON_ENGINE=spark needs the spark extra: pip install 'mediarecon[spark]'"
                             " (dbt-spark, pyspark) and Java 17")
        if environment["MEDIARECON_VALIDATED_DIR"].startswith("s3://"):
            raise BuildError(f"the Spark engine reads local Parquet only: {environment['MEDIARECON_VALIDATED_DIR']}"
                             " needs Spark's s3a jars (hadoop-aws), which cannot be fetched here (docs/scale_out.md)")
        code = spark.build_in_child(command, args, work_dir, environment)
        failed = _failures(work_dir / "target")
        if code == 0 and not failed:
            tables = spark.load_into_duckdb(work_dir, Path(environment["MEDIARECON_BUILD_DB"]),
                                            environment.get("MEDIARECON_BUILD_MEMORY_LIMIT", "2GB"))
            log(f"dbt {name} on Spark ({environment.get('MEDIARECON_SPARK_MASTER')}): passed; {tables} table(s)"
                " loaded into the DuckDB build")
            return
        if not failed:
            raise BuildError(f"dbt {name} on Spark could not run (exit code {code}): "
                             + (spark.child_error(work_dir) or f"see its output and {work_dir / 'logs'}"))
        raise BuildError(f"dbt {name} on Spark failed ({len(failed)} node(s)):\n" + "\n".join(failed[:20]))
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    with scoped_environment({**environment, "MEDIARECON_ENGINE": "duckdb"}):
        try:
            result = dbtRunner(callbacks=[_node_results(progress)] if progress else None).invoke([*command, *args])
        finally:
            # The adapter may keep the build file open; it must be closed before the file is renamed.
            DuckDBConnectionManager.close_all_connections()
    if result.success:
        nodes = getattr(result.result, "results", None)
        log(f"dbt {name}: " + (f"{len(nodes)} node(s) passed" if nodes else "done"))
        return
    if result.exception is not None:
        raise BuildError(f"dbt {name} could not run: {result.exception}")
    failed = [_failure(r.node.unique_id, r.status, r.message)
              for r in (getattr(result.result, "results", None) or []) if str(r.status) in FAILED]
    raise BuildError(f"dbt {name} failed ({len(failed)} node(s)):\n" + "\n".join(failed[:20]))


FAILED = ("error", "fail", "runtime error")


def _failure(unique_id: str, status, message: str | None) -> str:
    return f"{unique_id}: {status}: {(message or '').strip()}"


def _failures(target: Path) -> list[str]:
    """The failing nodes of the last dbt call writing to `target`, from its run_results.json."""
    try:
        results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    return [_failure(r["unique_id"], r["status"], r.get("message")) for r in results if r["status"] in FAILED]
