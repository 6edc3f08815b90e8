"""Build the warehouse into a fresh file and publish it atomically.

dbt writes only `warehouse/build/mediarecon.duckdb`; readers only ever open
`warehouse/mediarecon.duckdb`, read-only. Publishing is a rename on the same filesystem, so a reader
sees the old file or the new one, never a half-built one, and a reader that already has the old file
open keeps reading it.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mediarecon import drills
from mediarecon.paths import DBT_PROJECT_DIR
from mediarecon.settings import Home, Settings
from mediarecon.storage import duckdb_s3_environment, validated_location

# Marts that must exist in a build before it may be published.
PUBLISHED_MARTS = ("fct_order_line_delivery", "fct_findings", "fct_invoice_lines", "rpt_monthly_execution_statement")


class PublishError(RuntimeError):
    pass


def prepare_build(home: Home) -> Path:
    """Start every build from an empty file: a run never inherits a previous, possibly half, build."""
    build = home.build_db
    build.parent.mkdir(parents=True, exist_ok=True)
    for p in (build, build.with_name(build.name + ".wal")):
        p.unlink(missing_ok=True)
    return build


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What the nightly's dbt calls read from the environment: the build file, the Parquet folders,
    threads, and the S3 settings of the profile (for scoped_environment)."""
    return {
        "MEDIARECON_BUILD_DB": str(settings.home.build_db),
        "MEDIARECON_VALIDATED_DIR": validated_location(settings),
        "MEDIARECON_QUARANTINE_DIR": str(settings.home.quarantine),
        "MEDIARECON_DBT_THREADS": str(settings.dbt_threads),
        **duckdb_s3_environment(settings),
    }


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


def dbt_build_args(settings: Settings, dbt_vars: dict) -> list[str]:
    target = settings.home.runs / "dbt" / "target"
    return [
        "build",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target),
        "--log-path", str(settings.home.runs / "dbt" / "logs"),
        "--vars", json.dumps(dbt_vars),
    ]


class BuildError(RuntimeError):
    pass


def run_dbt(args: list[str], log=print) -> None:
    """Run dbt in-process; raise BuildError naming every node that errored or failed."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    try:
        result = dbtRunner().invoke(args)
    finally:
        # The adapter may keep the build file open; it must be closed before the file is renamed.
        DuckDBConnectionManager.close_all_connections()
    if result.success:
        nodes = getattr(result.result, "results", None)
        log(f"dbt {' '.join(args[:2]) if args[0] == 'docs' else args[0]}: "
            + (f"{len(nodes)} node(s) passed" if nodes else "done"))
        return
    if result.exception is not None:
        raise BuildError(f"dbt {args[0]} could not run: {result.exception}")
    failed = [f"{r.node.unique_id}: {r.status}: {(r.message or '').strip()}"
              for r in (getattr(result.result, "results", None) or [])
              if str(r.status) in ("error", "fail", "runtime error")]
    raise BuildError(f"dbt {args[0]} failed ({len(failed)} node(s)):\n" + "\n".join(failed[:20]))


@dataclass
class PublishResult:
    published: Path
    previous: Path | None
    row_counts: dict[str, int]


def publish(home: Home) -> PublishResult:
    build, published = home.build_db, home.published_db
    if not build.exists():
        raise PublishError(f"nothing to publish: {build} does not exist (did dbt build run?)")
    # Fold any WAL into the file and close cleanly: only WAL-free files are published.
    con = duckdb.connect(str(build))
    try:
        con.execute("checkpoint")
        missing = [m for m in PUBLISHED_MARTS
                   if not con.execute("select count(*) from information_schema.tables where table_name = ?",
                                      [m]).fetchone()[0]]
        if missing:
            raise PublishError(f"build {build} lacks mart(s) {', '.join(missing)}: not published")
        counts = {m: con.execute(f'select count(*) from "{m}"').fetchone()[0] for m in PUBLISHED_MARTS}
    finally:
        con.close()
    previous = None
    if published.exists():
        # Hard-link then rename: the published path never disappears, not even for an instant.
        tmp = home.previous_db.with_name(home.previous_db.name + ".tmp")
        tmp.unlink(missing_ok=True)
        os.link(published, tmp)
        os.replace(tmp, home.previous_db)
        previous = home.previous_db
        drills.checkpoint("publish:linked")
    # a published file is WAL-free: a stray WAL beside it (a crash, or planted) must not apply to the new one
    for suffix in (".wal", ".wal.recovery", ".wal.checkpoint"):
        published.with_name(published.name + suffix).unlink(missing_ok=True)
    os.replace(build, published)
    drills.checkpoint("publish:replaced")
    _fsync_dir(published.parent)
    return PublishResult(published, previous, counts)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mart_tables(con) -> list[str]:
    """The marts (fct_, dim_, rpt_ tables) of a warehouse file (a DuckDB connection or a Reader), by name."""
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'main'"
        " and table_type = 'BASE TABLE' and regexp_matches(table_name, '^(fct|dim|rpt)_') order by 1").fetchall()]

