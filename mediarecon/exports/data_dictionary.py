"""The data dictionary: dbt docs of the night's build in exports/docs/, every mart column described in
English and French (dictionnaire des données).

Column descriptions come from one file, mediarecon/dbt_project/docs/column_glossary.csv (column, optional model,
English, French); a row with a model overrides the general one for that mart. They are written into
the docs' manifest.json, and listed in data_dictionary.csv for people who do not browse the docs.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

from mediarecon.paths import DBT_PROJECT_DIR

GLOSSARY = DBT_PROJECT_DIR / "docs" / "column_glossary.csv"
MART_PREFIXES = ("fct_", "dim_", "rpt_")
FINGERPRINT = "fingerprint.txt"  # in the published docs: what they were generated from
BUILD_OUTPUTS = ("target", "logs", "dbt_packages")


def fingerprint(dbt_vars: dict) -> str:
    """What the docs depend on: every file of the dbt project (models, macros, seeds, the glossary) and
    the vars but the as-of date. The data does not change them: a night with the same project keeps
    last night's docs."""
    shaping = {k: v for k, v in dbt_vars.items() if k != "as_of_date"}
    h = hashlib.sha256(json.dumps(shaping, sort_keys=True, default=str).encode())
    for path in sorted(p for p in DBT_PROJECT_DIR.rglob("*")
                       if p.is_file() and p.relative_to(DBT_PROJECT_DIR).parts[0] not in BUILD_OUTPUTS):
        h.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def is_current(out: Path, stamp: str) -> bool:
    try:
        return (out / FINGERPRINT).read_text(encoding="utf-8") == stamp and (out / "manifest.json").is_file()
    except OSError:
        return False


def glossary() -> dict[tuple[str, str], tuple[str, str]]:
    with GLOSSARY.open(encoding="utf-8", newline="") as f:
        return {(r["column"], r["model"]): (r["description_en"], r["description_fr"]) for r in csv.DictReader(f)}


def describe(terms: dict, model: str, column: str) -> tuple[str, str] | None:
    return terms.get((column, model)) or terms.get((column, ""))


def bilingual(en: str, fr: str) -> str:
    return f"EN: {en} — FR: {fr}"


def publish_docs(target: Path, out: Path, stamp: str, log=print) -> dict:
    """Copy dbt's generated docs (index.html, manifest.json, catalog.json) from `target` to `out`, with
    every mart column's description in both languages; write data_dictionary.csv beside them."""
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    terms = glossary()
    rows, missing = [], []
    for uid, node in sorted(catalog["nodes"].items()):
        name = node["metadata"]["name"]
        if not name.startswith(MART_PREFIXES) or uid not in manifest["nodes"]:
            continue
        model = manifest["nodes"][uid]
        for column in sorted(node["columns"].values(), key=lambda c: c["index"]):
            found = describe(terms, name, column["name"])
            if found is None:
                missing.append(f"{name}.{column['name']}")
                found = ("(no description yet)", "(pas encore de description)")
            entry = model["columns"].setdefault(column["name"], {"name": column["name"], "meta": {}, "tags": []})
            entry["description"] = bilingual(*found)
            rows.append([name, column["name"], column["type"], *found])
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(target / "index.html", out / "index.html")
    shutil.copy2(target / "catalog.json", out / "catalog.json")
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with open(out / "data_dictionary.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["table", "colonne / column", "type", "description (EN)", "description (FR)"])
        w.writerows(rows)
    (out / FINGERPRINT).write_text(stamp, encoding="utf-8")
    if missing:
        log(f"data dictionary: {len(missing)} mart column(s) without a glossary entry, e.g. {missing[0]}"
            f" (add them to {GLOSSARY})")
    return {"columns": len(rows), "missing": missing}
