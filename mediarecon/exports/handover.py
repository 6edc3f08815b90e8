"""End of contract (CCAP 13.9): hand everything over to the next agency, then destroy it with a
certificate.

`export_all` writes a self-describing folder: every landed file as received, the validated Parquet,
the marts as Parquet and CSV, the manifest, the run records and the alert store, a README and a
SHA256SUMS list (`sha256sum -c SHA256SUMS` checks it). Each export is recorded in the home.
`purge` destroys the home's data only with an explicit confirmation, only when an export made after
the last run is intact, and leaves a destruction certificate (what, hashes, when, by which version).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import csv
import shutil
from pathlib import Path

from connectors.landing_store import sha256_file
from mediarecon import __version__
from mediarecon.ingest import storage
from mediarecon.settings import Settings
from mediarecon.state.manifest import REGISTER_COLUMNS, Manifest
from mediarecon.state.runs import list_runs
from mediarecon.warehouse.publish import mart_tables
from mediarecon.warehouse.reader import open_reader

EXPORT_RECORDS = "exports/handover"


class HandoverError(RuntimeError):
    pass


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


README = """# mediarecon — export de fin de marché / end-of-contract export

Exporté le {when} par mediarecon {version} depuis {home}.
Exported on {when} by mediarecon {version} from {home}.

| dossier / folder | contenu / content |
|---|---|
| `landed/<source>/` | chaque fichier reçu, tel que reçu, nommé `<sha256>.<ext>` (nom d'origine : `manifest.csv`) / every file received, as received |
| `inbox/<source>/` | fichiers déposés pas encore traités (arrivés après le dernier traitement) / files dropped and not landed yet |
| `validated/<source>/` | lignes valides, Parquet / valid rows, Parquet |
| `quarantine/<source>/` | lignes rejetées avec leur motif, Parquet / rejected rows with their reason |
| `marts/` | tables publiées (constats, livraisons, factures, contrat…) en Parquet et CSV (UTF-8, `,`) / published marts |
| `manifest.sqlite`, `manifest.csv` | registre des fichiers reçus : source, sha256, nom d'origine, date de réception, statut, motif / the landing register |
| `runs/` | compte rendu de chaque traitement de nuit / one record per nightly run |
| `alerts/` | le registre des alertes et de leurs envois / the alert store |
| `SHA256SUMS` | empreinte de chaque fichier : `sha256sum -c SHA256SUMS` / checksum of every file |

{files} fichiers / files, {size} octets / bytes. Formats des fichiers reçus : docs/input_formats.md du
dépôt mediarecon ; définitions des colonnes : mediarecon/dbt_project/models/marts/*.yml.
"""


def export_all(settings: Settings, out: Path, log=print) -> dict:
    home = settings.home
    if out.exists() and any(out.iterdir()):
        raise HandoverError(f"{out} is not empty: the export goes to a new folder")
    if out.resolve().is_relative_to(home.root.resolve()):
        raise HandoverError(f"{out} is inside the home folder {home.root}: export elsewhere (it outlives a purge)")
    if not home.manifest.exists():
        raise HandoverError(f"nothing to export: no manifest at {home.manifest}")
    out.mkdir(parents=True, exist_ok=True)
    store = storage.landing_store(settings)
    manifest = Manifest(home.manifest)
    manifest.backup(out / "manifest.sqlite")
    files = manifest.register()
    with open(out / "manifest.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(REGISTER_COLUMNS)
        w.writerows(files)
    for n, (source, sha, name, key, size, *_rest) in enumerate(files, start=1):
        target = out / "landed" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(store.fetch(key), target)
        if sha256_file(target) != sha:
            raise HandoverError(f"landed file {key} ({source}/{name}) no longer has its sha256 {sha}: not exported")
        if n % 200 == 0:
            log(f"  {n}/{len(files)} landed files copied")
    # files dropped after the last run are not landed yet: they are handed over too (links are not followed)
    for path in sorted(home.inbox.rglob("*")) if home.inbox.exists() else []:
        if path.is_file() and not path.is_symlink():
            target = out / "inbox" / path.relative_to(home.inbox)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    for folder in ("validated", "quarantine", "runs", "alerts"):
        src = home.root / folder
        if src.exists():
            shutil.copytree(src, out / folder, ignore=shutil.ignore_patterns(".lock", "build", "scratch", "dbt"))
    (out / "marts").mkdir()
    # the locked-down reader, allowed to write into marts/ of the export and nowhere else
    with open_reader(home, settings.reader, write_dir=out / "marts") as reader:
        marts = mart_tables(reader)
        for t in marts:
            reader.copy_to(f"select * from {t} order by all", out / "marts" / f"{t}.parquet", "format parquet")
            reader.copy_to(f"select * from {t} order by all", out / "marts" / f"{t}.csv", "header")
    when = _now()
    all_files = sorted(p for p in out.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in all_files)
    (out / "README.md").write_text(README.format(when=when, version=__version__, home=home.root,
                                                 files=len(all_files) + 2, size=size), encoding="utf-8")
    sums = [f"{sha256_file(p)}  {p.relative_to(out)}" for p in sorted(p for p in out.rglob("*") if p.is_file())]
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    record = {"exported_at": when, "out": str(out.resolve()), "files": len(sums), "landed_files": len(files),
              "marts": marts, "sha256sums_sha256": sha256_file(out / "SHA256SUMS"), "code_version": __version__}
    records = home.root / EXPORT_RECORDS
    records.mkdir(parents=True, exist_ok=True)
    (records / f"export-{when.replace(':', '')}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return record


def _verify(export: dict) -> set[str]:
    """Check the export against its SHA256SUMS; return the checksums it holds."""
    out = Path(export["out"])
    sums = out / "SHA256SUMS"
    if not sums.exists() or sha256_file(sums) != export["sha256sums_sha256"]:
        raise HandoverError(f"the export at {out} is gone or its SHA256SUMS changed: export again before purging")
    digests = set()
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        if sha256_file(out / name) != digest:
            raise HandoverError(f"the export at {out} is damaged ({name}): export again before purging")
        digests.add(digest)
    return digests


def purge(settings: Settings, confirm: bool, log=print) -> Path:
    home = settings.home
    if not confirm:
        raise HandoverError("purge destroys every file of the home folder: run it again with --confirm")
    if settings.storage.landing_url or settings.storage.validated_url:
        raise HandoverError("the landing zone or validated Parquet is on S3 (MEDIARECON_LANDING_URL /"
                            " MEDIARECON_VALIDATED_URL): destroy those prefixes with the storage's own procedure;"
                            " purge handles the local home folder only")
    records = sorted((home.root / EXPORT_RECORDS).glob("export-*.json"))
    if not records:
        raise HandoverError("no export of this home: run `mediarecon export-all --out DIR` first")
    export = json.loads(records[-1].read_text(encoding="utf-8"))
    runs = list_runs(home, limit=1)
    last_run = (runs[0].get("finished_at") or runs[0].get("started_at") or "") if runs else ""
    if last_run and export["exported_at"] < last_run:
        raise HandoverError(f"the last export ({export['exported_at']}) is older than the last run ({last_run}):"
                            " export again before purging")
    exported = _verify(export)
    doomed = sorted(p for p in home.root.rglob("*") if p.is_file() or p.is_symlink())
    inventory = [{"path": str(p.relative_to(home.root)), "size_bytes": p.stat().st_size, "sha256": sha256_file(p)}
                 for p in doomed if p.is_file()]
    # nothing received may be destroyed unless the export holds it: a file dropped after the export is not
    # (the manifest goes as its backup, other bytes)
    missing = [f["path"] for f in inventory if Path(f["path"]).parts[0] in ("inbox", "landing")
               and not Path(f["path"]).name.startswith("manifest.sqlite") and f["sha256"] not in exported]
    if missing:
        raise HandoverError(f"{len(missing)} received file(s) are not in the export at {export['out']}, e.g."
                            f" {', '.join(missing[:3])}: export again (mediarecon export-all) before purging")
    started = _now()
    for child in sorted(home.root.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    left = [p for p in home.root.rglob("*") if p.is_file()]
    if left:
        raise HandoverError(f"{len(left)} file(s) could not be destroyed, e.g. {left[0]}")
    certificate = {
        "title": "Certificat de destruction des données / Data destruction certificate (CCAP 13.9)",
        "home": str(home.root),
        "destroyed_at": _now(),
        "started_at": started,
        "by": getpass.getuser(),
        "software": f"mediarecon {__version__}",
        "method": "files unlinked and folders removed (no copy left in the home folder)",
        "handed_over_to": export["out"],
        "export": {k: export[k] for k in ("exported_at", "files", "landed_files", "sha256sums_sha256")},
        "files_destroyed": len(inventory),
        "bytes_destroyed": sum(f["size_bytes"] for f in inventory),
        "inventory_sha256": hashlib.sha256(json.dumps(inventory, sort_keys=True).encode()).hexdigest(),
        "inventory": inventory,
    }
    path = home.root / "DESTRUCTION_CERTIFICATE.json"
    path.write_text(json.dumps(certificate, indent=2, ensure_ascii=False), encoding="utf-8")
    log(f"{len(inventory)} file(s), {certificate['bytes_destroyed']} bytes destroyed; certificate {path}")
    return path
