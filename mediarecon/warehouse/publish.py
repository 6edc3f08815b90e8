"""Publish a finished build atomically.

Readers only ever open `warehouse/mediarecon.duckdb`, read-only. Publishing is a rename on the same
filesystem, so a reader sees the old file or the new one, never a half-built one, and a reader that
already has the old file open keeps reading it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mediarecon import drills
from mediarecon.state.home import Home
from mediarecon.state.manifest import Manifest

# Marts that must exist in a build before it may be published.
PUBLISHED_MARTS = ("fct_order_line_delivery", "fct_findings", "fct_invoice_lines", "rpt_monthly_execution_statement")


class PublishError(RuntimeError):
    pass


@dataclass
class PublishResult:
    published: Path
    previous: Path | None
    row_counts: dict[str, int]


def publish(home: Home, built_from: dict | None = None) -> PublishResult:
    """Put the finished build in place; `built_from` ({"run_id", "key"}: see `kept_warehouse`) is
    recorded beside it."""
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
    home.published_inputs.unlink(missing_ok=True)  # until written below, nothing says what the file holds
    os.replace(build, published)
    drills.checkpoint("publish:replaced")
    if built_from:
        stat = published.stat()
        tmp = home.published_inputs.with_name(home.published_inputs.name + ".tmp")
        tmp.write_text(json.dumps({**built_from, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}, indent=2,
                                  sort_keys=True), encoding="utf-8")
        os.replace(tmp, home.published_inputs)
    _fsync_dir(published.parent)
    return PublishResult(published, previous, counts)


def kept_warehouse(home: Home, manifest: Manifest, key: dict, repeat_reason: str) -> str | None:
    """The run whose published warehouse tonight's build would reproduce, or None. That is when it was
    built with the same `key` (vars, dbt project, reference data, validated location, versions) and
    every file processed since is an answer whose outcome says it only repeats what was received
    (`repeat_reason`): a night with nothing new keeps the warehouse instead of recomputing the year."""
    try:
        recorded = json.loads(home.published_inputs.read_text(encoding="utf-8"))
        stat = home.published_db.stat()
    except (OSError, ValueError):
        return None
    if (recorded.get("size"), recorded.get("mtime_ns")) != (stat.st_size, stat.st_mtime_ns):
        return None  # the file was replaced since (restored, or a publish that stopped before recording)
    if recorded.get("key") != json.loads(json.dumps(key)):
        return None
    if any(f["reason"] != repeat_reason or f["status"] != "validated" for f in manifest.processed_after(recorded["run_id"])):
        return None
    return recorded["run_id"]


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

