"""Replay and as-of: rebuild the warehouse a past run published, or what was known at a moment.

Every run records what it consumed: the landed files (manifest ids: source + sha256) it or an
earlier run processed, the dbt vars it built with (as-of date, tolerances, alert rules), the code
version and hashes of the dbt project and of the reference data. Validated Parquet and quarantine
files are named by the sha256 of the landed file they come from, so a replay gathers exactly those
files (hard links, nothing copied) into a folder of its own and runs the same dbt build there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

from mediarecon.paths import DBT_PROJECT_DIR
from mediarecon.state.home import Home
from mediarecon.state.manifest import Manifest
from mediarecon.state.runs import engine_versions
from mediarecon.warehouse.build import run_dbt


class ReplayError(ValueError):
    pass


def tree_sha256(*roots: Path) -> str:
    """One hash over the relative paths and bytes of every file under the roots."""
    h = hashlib.sha256()
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in files:
            h.update(str(p.relative_to(root.parent)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def project_sha256() -> str:
    """The dbt code a build depends on (models, macros, seeds, project file)."""
    d = DBT_PROJECT_DIR
    return tree_sha256(d / "models", d / "macros", d / "seeds", d / "dbt_project.yml")


def reference_sha256() -> str:
    return tree_sha256(DBT_PROJECT_DIR / "seeds" / "reference")


def inputs_record(manifest: Manifest, run_id: str) -> dict:
    files = manifest.consumed(run_id)
    return {"files": len(files),
            "files_sha256": hashlib.sha256("\n".join(f"{s}/{h}" for s, h in files).encode()).hexdigest(),
            "dbt_project_sha256": project_sha256(), "reference_sha256": reference_sha256()}


def _lineage(path: Path) -> set[str]:
    """The landed files a Parquet file's rows come from (a batch of API answers shares one file)."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    column = "_source_file_sha256" if "_source_file_sha256" in names else "file_sha256"  # validated / quarantine
    return set(pq.read_table(path, columns=[column]).column(0).to_pylist()) if column in names else set()


def _gather(src_root: Path, dst_root: Path, shas: set[str]) -> int:
    """Link every <source>/<name>.parquet made from the given landed files (and each schema file) into
    dst_root. Files are named by the landed file's sha256, or by a batch hash: then the lineage says."""
    n = 0
    for path in sorted(src_root.glob("*/*.parquet")):
        keep = path.name == "_schema.parquet" or path.stem in shas
        if not keep:
            lineage = _lineage(path)
            keep = bool(lineage) and lineage <= shas
        if keep:
            target = dst_root / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:  # another filesystem: copy
                shutil.copy2(path, target)
            n += path.name != "_schema.parquet"
    return n


def replay(home: Home, out: Path, run_id: str | None = None, as_of: str | None = None,
           current_vars: dict | None = None, log=print) -> dict:
    """Rebuild into out/mediarecon.duckdb the warehouse of run `run_id` (with the vars it recorded), or
    of what was received up to `as_of` (YYYY-MM-DD: end of that day, or an ISO timestamp)."""
    if (run_id is None) == (as_of is None):
        raise ReplayError("give a run id or --as-of, not both and not neither")
    if out.exists() and any(out.iterdir()):
        raise ReplayError(f"{out} is not empty: replay writes a whole new folder")
    warnings = []
    if run_id is not None:
        record_path = home.runs / f"{run_id}.json"
        if not record_path.exists():
            raise ReplayError(f"no run {run_id} in {home.runs} (see `mediarecon status`)")
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record.get("status") != "succeeded" or "dbt_vars" not in record:
            raise ReplayError(f"run {run_id} did not publish a warehouse (status {record.get('status')}):"
                              " nothing to replay")
        files = Manifest(home.manifest).consumed(run_id=run_id)
        dbt_vars = record["dbt_vars"]
        inputs = record.get("inputs", {})
        if inputs.get("files") != len(files):
            raise ReplayError(f"run {run_id} consumed {inputs.get('files')} file(s) but the manifest now gives"
                              f" {len(files)}: the landing zone was changed")
        if inputs.get("dbt_project_sha256") != project_sha256():
            warnings.append("the dbt project changed since that run (code "
                            f"{record.get('code_version')}): marts may differ where the rules changed")
        if inputs.get("reference_sha256") != reference_sha256():
            warnings.append("the reference data (seeds) changed since that run")
        then, now = record.get("engine_versions") or {}, engine_versions()
        changed = [f"{k} {then[k]} -> {now.get(k)}" for k in sorted(then) if then[k] != now.get(k)]
        if changed:
            warnings.append(f"other engine versions than that run's ({', '.join(changed)}): install them from"
                            " constraints.txt to rebuild it alike")
    else:
        until = as_of if "T" in as_of else f"{as_of}T23:59:59+00:00"
        try:
            moment = dt.datetime.fromisoformat(until)
        except ValueError:
            raise ReplayError(f"--as-of {as_of!r} is not a YYYY-MM-DD date or an ISO timestamp")
        files = Manifest(home.manifest).consumed(received_until=moment.astimezone(dt.timezone.utc).isoformat(
            timespec="seconds"))
        dbt_vars = {**(current_vars or {}), "as_of_date": moment.date().isoformat()}
    for w in warnings:
        log(f"warning: {w}")
    out.mkdir(parents=True, exist_ok=True)
    shas = {sha for _, sha in files}
    linked = _gather(home.validated, out / "validated", shas)
    _gather(home.quarantine, out / "quarantine", shas)
    log(f"{len(files)} landed file(s) -> {linked} validated Parquet file(s) gathered in {out / 'validated'}")
    build = out / "mediarecon.duckdb"
    run_dbt(["build"], work_dir=out / "dbt", dbt_vars=dbt_vars, log=log,
            environment={"MEDIARECON_BUILD_DB": str(build), "MEDIARECON_VALIDATED_DIR": str(out / "validated"),
                         "MEDIARECON_QUARANTINE_DIR": str(out / "quarantine")})
    return {"warehouse": str(build), "files": len(files), "dbt_vars": dbt_vars, "warnings": warnings}
