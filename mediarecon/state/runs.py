"""Run records (`runs/<run_id>.json`) and the lock that keeps two runs off one home at once."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import secrets
from contextlib import contextmanager

from mediarecon import __version__
from mediarecon.state.home import Home


class RunInProgress(RuntimeError):
    pass


ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "pyarrow", "pandas", "pandera")


def engine_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {name: installed(name) for name in ENGINE_PACKAGES}


def new_run_id(short_id: str | None = None) -> str:
    """`<UTC time>-<6 hex>`: the hex is the Prefect flow run's short id when there is one (its name ends
    with it), else random."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + (short_id or secrets.token_hex(3))


@contextmanager
def run_lock(home: Home):
    path = home.runs / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise RunInProgress(f"another run holds {path} ({holder}); try again when it ends")
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class RunRecord:
    def __init__(self, home: Home, run_id: str):
        self.path = home.runs / f"{run_id}.json"
        self.data = {
            "run_id": run_id,
            "started_at": _now(),
            "finished_at": None,
            "status": "running",
            "message": None,
            "code_version": __version__,
            "pid": os.getpid(),
            # what a replay's rows depend on beside the code: reinstall these (constraints.txt) to rebuild alike
            "engine_versions": engine_versions(),
        }
        self.save()

    def update(self, **kw) -> None:
        self.data.update(kw)
        self.save()

    def finish(self, status: str, message: str | None = None, **kw) -> None:
        self.update(status=status, message=message, finished_at=_now(), **kw)

    def save(self) -> None:
        _write_record(self.path, self.data)


def _write_record(path, data: dict) -> None:
    """Write then rename: a reader (or a crash) never sees half a record."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def heal_interrupted(home: Home) -> list[str]:
    """Records a dead process left `running` (killed, crashed, a power cut) become `interrupted`, with when
    that was found. Call it holding the run lock: then no live run can own a `running` record."""
    healed = []
    for path in sorted(home.runs.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("status") != "running":
            continue
        data.update(status="interrupted", interrupted_found_at=_now(),
                    message="its process ended before the run did (killed or crashed); the published warehouse is"
                            " the last complete one")
        _write_record(path, data)
        healed.append(data["run_id"])
    return healed


def list_runs(home: Home, limit: int = 10) -> list[dict]:
    paths = sorted(home.runs.glob("*.json"), reverse=True)[:limit]
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
