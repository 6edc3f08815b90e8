"""The one way to read the published warehouse: `query`, `audit`, reports, the alert step and the run
summary all go through `open_reader`.

The lock-down is DuckDB's own, not a keyword list: the warehouse is attached read-only, nothing else
can be read or written (`enable_external_access=false`), no extension can be loaded, and the
configuration is locked, so no statement can loosen it. On top of that, a statement check built on
DuckDB's parser accepts one plain query only, and a timer interrupts a query that runs longer than
MEDIARECON_QUERY_TIMEOUT_S (DuckDB has no statement timeout of its own).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mediarecon.settings import ReaderSettings
from mediarecon.state.home import Home


class ReaderError(RuntimeError):
    """A reader's query could not run; the message is the one line a person needs."""


class ReadOnlyViolation(ReaderError):
    pass


class QueryTimeout(ReaderError):
    pass


# Functions that DuckDB 1.5.5 lets a SELECT call although they change the connection despite
# lock_configuration (profiling and logging switched on, checkpoints): found by a review.
STATE_CHANGING_FUNCTIONS = {"enable_profiling", "disable_profiling", "enable_logging", "disable_logging",
                            "truncate_duckdb_logs", "checkpoint", "force_checkpoint"}


def _serialised(sql: str) -> dict | None:
    """The parse tree json_serialize_sql gives of a SELECT statement; None for anything else (it
    serialises SELECT statements only, and a PRAGMA parses as one but not here)."""
    con = duckdb.connect(config={"enable_external_access": False, "autoload_known_extensions": False})
    try:
        tree = json.loads(con.execute("select json_serialize_sql(?)", [sql]).fetchone()[0])
    finally:
        con.close()
    return None if tree.get("error") else tree


def _functions(node) -> set[str]:
    """Every function name in a parse tree."""
    if isinstance(node, dict):
        found = {node["function_name"].lower()} if isinstance(node.get("function_name"), str) else set()
        return found.union(*(_functions(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_functions(v) for v in node))
    return set()


def _explained(text: str) -> tuple[str, str]:
    """(EXPLAIN or EXPLAIN ANALYZE, the statement explained), cut where DuckDB's tokenizer says. Its
    positions are UTF-8 byte offsets, so the text is cut as bytes (an accented comment must not shift it)."""
    raw = text.encode("utf-8")
    tokens = duckdb.tokenize(text)

    def word(n: int) -> str:
        end = tokens[n + 1][0] if n + 1 < len(tokens) else len(raw)
        found = re.match(r"[A-Za-z]+", raw[tokens[n][0]:end].decode("utf-8", "replace"))
        return found.group(0).upper() if found else ""

    analyze = len(tokens) > 1 and word(1) in ("ANALYZE", "ANALYSE")
    rest = 2 if analyze else 1
    explained = raw[tokens[rest][0]:].decode("utf-8") if len(tokens) > rest else ""
    return ("EXPLAIN ANALYZE" if analyze else "EXPLAIN"), explained


def _kind(statements: list, text: str) -> str | None:
    """None when `text` is exactly one plain query; else what it is, for the refusal."""
    if len(statements) != 1:
        return "multi-statement" if statements else "empty"
    what = statements[0].type.name
    if what != "SELECT":
        return what
    tree = _serialised(text)
    if tree is None:  # a PRAGMA parses as a SELECT of a pragma_ function
        return "PRAGMA or other non-query"
    changing = sorted(_functions(tree) & STATE_CHANGING_FUNCTIONS)
    if changing:
        return f"SELECT calling {', '.join(f + '()' for f in changing)}, which changes the connection,"
    return None


def _a(kind: str) -> str:
    return ("an " if kind[0] in "AEIOU" else "a ") + kind


def _parse(sql: str) -> list:
    try:
        return duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise ReaderError(str(e).splitlines()[0]) from None


def check_statement(sql: str) -> str:
    """The SQL to run if it is one plain query (SELECT, WITH…SELECT, VALUES, FROM…, or EXPLAIN of one);
    else ReadOnlyViolation with a one-line reason. DuckDB's own parser decides, not keywords, and what
    is returned to run is exactly the text that was checked."""
    statements = _parse(sql)
    if not statements:
        raise ReadOnlyViolation("read-only: no SQL statement given")
    if len(statements) > 1:
        raise ReadOnlyViolation(f"read-only: one statement at a time ({len(statements)} given:"
                                f" {', '.join(s.type.name for s in statements)})")
    if statements[0].type.name == "EXPLAIN":
        prefix, explained = _explained(sql)
        try:
            inner = duckdb.extract_statements(explained) if explained.strip() else []
        except duckdb.Error:
            inner = []
        kind = _kind(inner, explained)
        if kind is not None:
            raise ReadOnlyViolation(f"read-only: {prefix} of {_a(kind)} statement is not allowed here"
                                    " (only of a plain query)")
        # rebuilt from the checked parts: what runs is the plan of the query that was checked
        return f"{prefix} {explained}"
    kind = _kind(statements, sql)
    if kind is not None:
        raise ReadOnlyViolation(f"read-only: {_a(kind)} statement is not allowed here (only a plain query:"
                                " SELECT, WITH, VALUES, FROM)")
    return sql


@dataclass(frozen=True)
class Origin:
    """Which warehouse a reader reads: its file's sha256, and the run that built it with that run's as-of
    date (None when the file carries no record of it: published by hand, or the previous one)."""
    sha256: str
    run_id: str | None
    as_of_date: str | None


_digests: dict[tuple, str] = {}  # a published file never changes in place: its digest, by identity


def _identity(st: os.stat_result) -> tuple:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class Reader:
    """A locked-down, read-only connection to the published warehouse with a statement timeout."""

    def __init__(self, con: duckdb.DuckDBPyConnection, limits: ReaderSettings, home: Home, opened: os.stat_result):
        self._con, self.limits = con, limits
        self._home, self._opened = home, opened  # the file attached, for origin()
        self._timed_out = False

    def origin(self) -> Origin:
        """The sha256 and run of the very file this reader attached (a publish since then moved it to
        warehouse/previous, as a hard link: it is found there)."""
        identity = _identity(self._opened)
        if identity not in _digests:
            for candidate in (self._home.published_db, self._home.previous_db):
                try:
                    f = open(candidate, "rb")
                except FileNotFoundError:
                    continue
                with f:
                    if _identity(os.fstat(f.fileno())) == identity:
                        _digests[identity] = hashlib.file_digest(f, "sha256").hexdigest()
                        break
            else:
                raise ReaderError("the published warehouse was replaced twice while it was read: run the command"
                                  " again")
        run_id = as_of = None
        try:
            recorded = json.loads(self._home.published_inputs.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = {}
        if (recorded.get("size"), recorded.get("mtime_ns")) == identity[2:]:  # the record is this file's
            run_id, as_of = recorded.get("run_id"), recorded.get("key", {}).get("dbt_vars", {}).get("as_of_date")
        return Origin(_digests[identity], run_id, as_of)

    def _timed(self, run):
        self._timed_out = False

        def stop():
            self._timed_out = True
            self._con.interrupt()

        timer = threading.Timer(self.limits.timeout_s, stop)
        timer.daemon = True
        timer.start()
        try:
            return run()
        except duckdb.InterruptException:
            if self._timed_out:
                raise QueryTimeout(f"query stopped after {self.limits.timeout_s:g} s: it ran longer than"
                                   f" MEDIARECON_QUERY_TIMEOUT_S={self.limits.timeout_s:g}") from None
            raise
        except duckdb.OutOfMemoryException:
            raise ReaderError(f"query stopped: it needs more memory than MEDIARECON_QUERY_MEMORY_LIMIT="
                              f"{self.limits.memory_limit}") from None
        except duckdb.PermissionException as e:
            raise ReadOnlyViolation("read-only: only the published marts can be read here ("
                                    + str(e).splitlines()[0].removeprefix("Permission Error: ") + ")") from None
        finally:
            timer.cancel()

    def execute(self, sql: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
        """Run one checked query (the product's own SQL, with parameters); fetch from the result."""
        query = check_statement(sql)
        return self._timed(lambda: self._con.execute(query, params or []))

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """A person's SQL: (column names, rows), fetched within the timeout and the row cap."""
        query = check_statement(sql)
        cap = self.limits.max_rows

        def run():
            cur = self._con.execute(query)
            rows = cur.fetchmany(cap + 1)
            if len(rows) > cap:
                raise ReaderError(f"query stopped: more than MEDIARECON_QUERY_MAX_ROWS={cap} rows; add a LIMIT"
                                  " or an aggregate")
            return [d[0] for d in cur.description] if cur.description else [], rows

        return self._timed(run)

    def copy_to(self, sql: str, path: Path, options: str) -> None:
        """COPY a checked query to a file; only inside the folder the reader was opened to write."""
        query = check_statement(sql)
        target = str(path).replace("'", "''")
        self._timed(lambda: self._con.execute(f"copy ({query}) to '{target}' ({options})"))

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_reader(home: Home, limits: ReaderSettings, wait_s: float = 5.0, write_dir: Path | None = None) -> Reader:
    """The published warehouse through a locked-down connection. Retries briefly: the file can be locked
    for an instant while a run swaps it in. `write_dir`: the one folder `copy_to` may write (export-all)."""
    if not home.published_db.exists() and not home.previous_db.exists():
        raise FileNotFoundError(
            f"no published warehouse at {home.published_db}: run `mediarecon run --home {home.root}` first")
    # No spilling: nothing is written anywhere, and a query too big for the memory limit says so.
    config = {"autoload_known_extensions": False, "autoinstall_known_extensions": False,
              "allow_community_extensions": False, "memory_limit": limits.memory_limit,
              "threads": limits.threads, "temp_directory": ""}
    # An in-memory database that attaches the warehouse read-only, rather than connect(path): DuckDB shares
    # one instance per file in a process and refuses a second connection with another configuration
    # (another reader's limits, a plain connection someone holds open).
    con = duckdb.connect(":memory:", config=config)
    path = str(home.published_db).replace("'", "''")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            opened = os.stat(home.published_db)
            # same catalog name as the file's: the views of the warehouse name it
            con.execute(f"attach '{path}' as {home.published_db.stem} (read_only)")
            if _identity(os.stat(home.published_db)) != _identity(opened):  # replaced while attaching
                con.execute(f"detach {home.published_db.stem}")
                raise duckdb.IOException("the published warehouse was replaced while it was opened")
            con.execute(f"use {home.published_db.stem}")
            break
        except (duckdb.IOException, duckdb.ConnectionException, FileNotFoundError):
            if time.monotonic() >= deadline:
                con.close()
                raise
            time.sleep(0.2)
    try:
        # allowed_directories can only be set once the database is open, before the access is cut
        if write_dir is not None:
            con.execute("set allowed_directories = ?", [[str(Path(write_dir).resolve()) + "/"]])
        con.execute("set enable_external_access = false")
        if write_dir is None:
            # External access off still leaves the attached file and its WAL paths open to read_blob and
            # COPY; with the local file system disabled, the open warehouse is the only thing readable.
            con.execute("set disabled_filesystems = 'LocalFileSystem'")
        con.execute("set lock_configuration = true")
    except Exception:
        con.close()
        raise
    return Reader(con, limits, home, opened)
