"""The manifest: what was received, when, and what happened to it. SQLite, so that `status` can read it
while a run writes it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path

SCHEMA = """
create table if not exists files (
    source text not null,
    sha256 text not null,
    original_name text not null,
    landing_key text not null,
    size_bytes integer not null,
    received_at text not null,
    status text not null check (status in ('landed', 'validated', 'partial', 'rejected')),
    reason text,
    rows_read integer,
    rows_valid integer,
    rows_quarantined integer,
    received_run_id text not null,
    processed_run_id text,
    primary key (source, sha256)
);
create table if not exists watermarks (
    source text primary key,
    value text not null,
    updated_at text not null,
    run_id text not null
);
create table if not exists remote_objects (
    source text not null,
    bucket text not null,
    key text not null,
    etag text not null,
    sha256 text not null,
    seen_at text not null,
    run_id text not null,
    primary key (source, bucket, key, etag)
);
-- Chorus Pro invoices whose document is still to download: written as soon as their new history is
-- landed, cleared once the document is landed, so that a run stopped in between loses none.
create table if not exists pending_documents (
    invoice_id integer primary key,
    run_id text not null
);
create table if not exists inbox_notes (
    source text not null,
    original_name text not null,
    status text not null check (status in ('deferred', 'skipped', 'ignored')),
    reason text not null,
    run_id text not null,
    seen_at text not null,
    primary key (source, original_name)
);
-- What each inbox file was when it was last hashed: a file whose size, modification time and inode are
-- unchanged since is not read again (the inbox keeps the senders' files: a State-year is gigabytes).
create table if not exists inbox_files (
    source text not null,
    original_name text not null,
    size_bytes integer not null,
    mtime_ns integer not null,
    inode integer not null,
    sha256 text not null,
    primary key (source, original_name)
);
create table if not exists receipts (
    source text not null,
    sha256 text not null,
    original_name text not null,
    first_seen_at text not null,
    run_id text not null,
    primary key (source, sha256, original_name)
);
"""


# the columns of the landing register in the end-of-contract export (manifest.csv)
REGISTER_COLUMNS = ("source", "sha256", "original_name", "landing_key", "size_bytes", "received_at", "status", "reason")


def utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Manifest:
    def __init__(self, path: Path, read_only: bool = False):
        """`read_only`: a reader's (the dashboard's): the file must exist, nothing is created or written."""
        self.path = Path(path)
        self.read_only = read_only
        self._held: sqlite3.Connection | None = None
        self._in_transaction = False
        if read_only:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("pragma journal_mode=wal")
            con.executescript(SCHEMA)

    def _open(self) -> sqlite3.Connection:
        if self.read_only:
            con = sqlite3.connect(self.path.absolute().as_uri() + "?mode=ro", uri=True, timeout=30)
            con.row_factory = sqlite3.Row
            return con
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        # WAL + NORMAL: never corrupt; a power cut may forget the last commits, which only means a file
        # is landed again (a no-op by content hash) on the next run
        con.execute("pragma synchronous=normal")
        return con

    @contextmanager
    def _connect(self):
        """A transaction: on the connection `held()` keeps open, or on a connection of its own; inside
        `transaction()`, part of that one."""
        if self._held is not None:
            if self._in_transaction:
                yield self._held
                return
            with self._held:
                yield self._held
            return
        con = self._open()
        try:
            with con:
                yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self):
        """The calls made inside commit together, or not at all (a Chorus Pro page: a hundred answers
        and five statements each). Only for what can be done again: a crash forgets the whole block."""
        with self.held():
            if self._in_transaction:
                yield self
                return
            self._in_transaction = True
            try:
                with self._held:
                    yield self
            finally:
                self._in_transaction = False

    @contextmanager
    def held(self):
        """One connection for the calls made inside (the door's loops make thousands; opening and closing
        one each cost more than the work). Each call still commits on its own."""
        if self._held is not None:
            yield self
            return
        self._held = self._open()
        try:
            yield self
        finally:
            self._held.close()
            self._held = None

    def status(self, source: str, sha256: str) -> str | None:
        with self._connect() as con:
            row = con.execute("select status from files where source = ? and sha256 = ?", (source, sha256)).fetchone()
            return row["status"] if row else None

    def shas(self, source: str) -> set[str]:
        """The sha256 of every file of `source` ever landed."""
        with self._connect() as con:
            return {r[0] for r in con.execute("select sha256 from files where source = ?", (source,))}

    def record_receipt(self, source: str, sha256: str, name: str, run_id: str) -> None:
        with self._connect() as con:
            con.execute("insert or ignore into receipts values (?, ?, ?, ?, ?)",
                        (source, sha256, name, utcnow(), run_id))

    def inbox_files(self, source: str) -> dict[str, tuple[int, int, int, str]]:
        """name -> (size, mtime_ns, inode, sha256) of each inbox file of `source` when last hashed."""
        with self._connect() as con:
            return {r[0]: tuple(r[1:]) for r in con.execute(
                "select original_name, size_bytes, mtime_ns, inode, sha256 from inbox_files where source = ?",
                (source,))}

    def record_inbox_file(self, source: str, name: str, size: int, mtime_ns: int, inode: int, sha256: str) -> None:
        with self._connect() as con:
            con.execute("insert or replace into inbox_files values (?, ?, ?, ?, ?, ?)",
                        (source, name, size, mtime_ns, inode, sha256))

    def received_names(self, source: str, names: list[str]) -> set[str]:
        """Those of `names` under which an answer of `source` was already received."""
        with self._connect() as con:
            con.execute("create temp table if not exists asked (name text primary key)")
            con.execute("delete from asked")
            con.executemany("insert or ignore into asked values (?)", [(n,) for n in names])
            return {r[0] for r in con.execute("select distinct original_name from receipts join asked"
                                              " on original_name = name where source = ?", (source,))}

    def replace_inbox_notes(self, source: str, notes: list[tuple[str, str, str]], run_id: str) -> None:
        """What the inbox of `source` holds tonight that was not landed: (name, status, reason) each."""
        with self._connect() as con:
            con.execute("delete from inbox_notes where source = ?", (source,))
            con.executemany("insert or replace into inbox_notes values (?, ?, ?, ?, ?, ?)",
                            [(source, name, status, reason, run_id, utcnow()) for name, status, reason in notes])

    def inbox_notes(self) -> list[sqlite3.Row]:
        with self._connect() as con:
            return con.execute("select * from inbox_notes order by source, original_name").fetchall()

    def record_landed(self, source, sha256, name, key, size, run_id) -> None:
        with self._connect() as con:
            con.execute(
                "insert or ignore into files (source, sha256, original_name, landing_key, size_bytes,"
                " received_at, status, received_run_id) values (?, ?, ?, ?, ?, ?, 'landed', ?)",
                (source, sha256, name, key, size, utcnow(), run_id),
            )

    def pending(self, source: str) -> list[sqlite3.Row]:
        """Landed but not yet validated, including files a crashed run left behind."""
        with self._connect() as con:
            return con.execute("select * from files where source = ? and status = 'landed'"
                               " order by received_at, original_name", (source,)).fetchall()

    def record_outcome(self, source, sha256, status, reason, rows_read, rows_valid, rows_quarantined,
                       run_id) -> None:
        with self._connect() as con:
            con.execute(
                "update files set status = ?, reason = ?, rows_read = ?, rows_valid = ?,"
                " rows_quarantined = ?, processed_run_id = ? where source = ? and sha256 = ?",
                (status, reason, rows_read, rows_valid, rows_quarantined, run_id, source, sha256),
            )

    def files(self) -> list[sqlite3.Row]:
        with self._connect() as con:
            return con.execute("select * from files order by source, original_name").fetchall()

    def remote_seen(self, source: str, bucket: str, key: str, etag: str) -> bool:
        with self._connect() as con:
            return con.execute("select 1 from remote_objects where source = ? and bucket = ? and key = ?"
                               " and etag = ?", (source, bucket, key, etag)).fetchone() is not None

    def record_remote(self, source: str, bucket: str, key: str, etag: str, sha256: str, run_id: str) -> None:
        with self._connect() as con:
            con.execute("insert or ignore into remote_objects values (?, ?, ?, ?, ?, ?, ?)",
                        (source, bucket, key, etag, sha256, utcnow(), run_id))

    def watermark(self, source: str) -> str | None:
        with self._connect() as con:
            row = con.execute("select value from watermarks where source = ?", (source,)).fetchone()
            return row["value"] if row else None

    def set_watermark(self, source: str, value: str, run_id: str) -> None:
        with self._connect() as con:
            con.execute("insert into watermarks values (?, ?, ?, ?) on conflict (source) do update set"
                        " value = excluded.value, updated_at = excluded.updated_at, run_id = excluded.run_id",
                        (source, value, utcnow(), run_id))

    def add_pending_documents(self, invoice_ids: list[int], run_id: str) -> None:
        with self._connect() as con:
            con.executemany("insert or ignore into pending_documents values (?, ?)", [(i, run_id) for i in invoice_ids])

    def pending_documents(self) -> list[int]:
        with self._connect() as con:
            return [r[0] for r in con.execute("select invoice_id from pending_documents order by invoice_id")]

    def clear_pending_documents(self, invoice_ids: list[int]) -> None:
        with self._connect() as con:
            con.executemany("delete from pending_documents where invoice_id = ?", [(i,) for i in invoice_ids])

    def watermarks(self) -> list[sqlite3.Row]:
        with self._connect() as con:
            return con.execute("select * from watermarks order by source").fetchall()

    def summary_by_source(self) -> list[sqlite3.Row]:
        with self._connect() as con:
            return con.execute(
                "select source, status, count(*) as files, coalesce(sum(rows_valid), 0) as rows_valid,"
                " coalesce(sum(rows_quarantined), 0) as rows_quarantined from files"
                " group by source, status order by source, status"
            ).fetchall()

    def consumed(self, run_id: str | None = None, received_until: str | None = None) -> list[tuple[str, str]]:
        """(source, sha256) of the landed files processed by `run_id` or an earlier run, or received up to
        `received_until` (ISO timestamp, UTC): what a build of that run read."""
        sql = "select source, sha256 from files where processed_run_id is not null"
        args: list = []
        if run_id is not None:
            sql, args = sql + " and processed_run_id <= ?", args + [run_id]
        if received_until is not None:
            sql, args = sql + " and received_at <= ?", args + [received_until]
        with self._connect() as con:
            return sorted(tuple(r) for r in con.execute(sql + " order by source, sha256", args).fetchall())

    def processed_after(self, run_id: str) -> list[sqlite3.Row]:
        """The landed files processed (validated, partial or rejected) by a run later than `run_id`."""
        with self._connect() as con:
            return con.execute("select source, sha256, original_name, status, reason from files"
                               " where processed_run_id > ? order by source, sha256", (run_id,)).fetchall()

    def evidence_names(self) -> dict[str, str]:
        """sha256 -> `<source>/<original name>`, to name a finding's evidence as its sender named it."""
        with self._connect() as con:
            return {r["sha256"]: f"{r['source']}/{r['original_name']}"
                    for r in con.execute("select source, sha256, original_name from files")}

    def landed_file(self, sha256: str) -> sqlite3.Row | None:
        """The first landing of the file with these bytes (source, original name, key, received, runs)."""
        with self._connect() as con:
            return con.execute("select * from files where sha256 = ? order by received_at, source limit 1",
                               (sha256,)).fetchone()

    def last_received(self) -> dict[str, str]:
        """source -> when its newest file was received (ISO, UTC)."""
        with self._connect() as con:
            return dict(tuple(r) for r in con.execute("select source, max(received_at) from files group by source"))

    def register(self) -> list[tuple]:
        """The landing register as the end-of-contract export lists it, one row per landed file."""
        with self._connect() as con:
            return [tuple(r) for r in con.execute(
                "select " + ", ".join(REGISTER_COLUMNS) + " from files order by source, received_at, sha256")]

    def backup(self, target: Path) -> None:
        """A consistent copy of the manifest at `target`, even while someone reads it."""
        with self._connect() as con, closing(sqlite3.connect(target)) as dst:
            con.backup(dst)
