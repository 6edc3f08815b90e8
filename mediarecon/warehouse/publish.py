"""Publish a finished build atomically.

Readers only ever open `warehouse/mediarecon.duckdb`, read-only. Publishing is a rename on the same
filesystem, so a reader sees the old file or the new one, never a half-built one, and a reader that
already has the old file open keeps reading it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mediarecon import drills
from mediarecon.state.home import Home

# Marts that must exist in a build before it may be published.
PUBLISHED_MARTS = ("fct_order_line_delivery", "fct_findings", "fct_invoice_lines", "rpt_monthly_execution_statement")


class PublishError(RuntimeError):
    pass


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

