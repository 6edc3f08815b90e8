"""Every inbox entry is either landed or reported (deferred, skipped, ignored), never fatal: the odd files a
careless sender drops, tried one by one. Written against the failures they caused (#15)."""

import hashlib
import os
import time

from connectors.landing_store import LocalLandingStore
from mediarecon.ingest.sources import INBOX_FOLDERS, SOURCES
from mediarecon.ingest.tabular import land_source, validate_source
from mediarecon.state.home import Home
from mediarecon.state.manifest import Manifest

HEADER = "Campagne;Annonceur;Interdite depuis le;Motif\n"


def row(n: int) -> str:
    return HEADER + f"CMP-2025-{n:04d};SPF;01/04/2025;retirée\n"


def test_odd_files_are_each_landed_or_reported_and_none_stops_the_others(tmp_path):
    home = Home(tmp_path / "home").ensure(INBOX_FOLDERS)
    manifest, store = Manifest(home.manifest), LocalLandingStore(home.landing)
    spec = SOURCES["forbidden_campaigns"]
    inbox = home.inbox / spec.name
    long_name = "rapport." + "x" * 200 + ".csv"  # was: OSError File name too long, the whole run
    (inbox / long_name).write_text(row(1), encoding="utf-8")
    with open(os.fsencode(inbox) + b"/interdites_\xe9t\xe9.csv", "w", encoding="utf-8") as f:  # a Latin-1 name
        f.write(row(2))
    (inbox / "ligne\nforgée.csv").write_text(row(3), encoding="utf-8")
    (inbox / "MAJUSCULES.CSV").write_text(row(4), encoding="utf-8")
    (inbox / "unicode.csv").write_bytes(row(5).encode("utf-16"))  # Excel's "Unicode text": UTF-16 with a BOM
    secret = tmp_path / "outside.csv"
    secret.write_text(row(6), encoding="utf-8")
    (inbox / "lien.csv").symlink_to(secret)  # was: followed out of the home, and landed
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.csv").write_text(row(7), encoding="utf-8")
    (inbox / "dossier").symlink_to(tmp_path / "elsewhere")
    os.mkfifo(inbox / "tube.csv")
    (inbox / ".cache.csv").write_text(row(8), encoding="utf-8")
    (inbox / "export.csv.txt").write_text(row(9), encoding="utf-8")
    hour_ago = time.time() - 3600
    for p in inbox.iterdir():
        if p.is_file() and not p.is_symlink():
            os.utime(p, (hour_ago, hour_ago))
    (inbox / "en_cours.csv").write_text(row(10), encoding="utf-8")  # being written right now

    assert land_source(home, spec, store, manifest, "r1", settle_s=60) == 5
    landed = sorted(r["original_name"] for r in manifest.files())
    assert landed == sorted([long_name, "interdites_\\xe9t\\xe9.csv", "ligne\\nforgée.csv", "MAJUSCULES.CSV",
                             "unicode.csv"])
    notes = {n["original_name"]: (n["status"], n["reason"]) for n in manifest.inbox_notes()}
    assert {k: v[0] for k, v in notes.items()} == {
        "lien.csv": "skipped", "dossier": "skipped", "tube.csv": "skipped", ".cache.csv": "ignored",
        "export.csv.txt": "ignored", "en_cours.csv": "deferred"}
    assert "symbolic link: not followed" in notes["lien.csv"][1]
    assert "MEDIARECON_INBOX_SETTLE_S=60" in notes["en_cours.csv"][1]
    assert not any(len(p.name) > 80 for p in home.landing.rglob("*"))  # sha256 + its real extension
    outside = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (secret, tmp_path / "elsewhere" / "x.csv")}
    assert not outside & {r["sha256"] for r in manifest.files()}  # nothing from outside the home landed
    outcomes = validate_source(home, spec, manifest, store, "r1")
    assert sorted((o.status, o.rows_valid) for o in outcomes) == [("validated", 1)] * 5  # UTF-16 read too

    # the next run: the file written meanwhile is settled and lands; the notes say what the inbox holds now
    assert land_source(home, spec, store, manifest, "r2", settle_s=0) == 1
    assert "en_cours.csv" not in {n["original_name"] for n in manifest.inbox_notes()}


def test_a_huge_rejection_reason_is_capped_and_says_how_much_was_cut(tmp_path):
    home = Home(tmp_path / "home").ensure(INBOX_FOLDERS)
    manifest, store = Manifest(home.manifest), LocalLandingStore(home.landing)
    spec = SOURCES["forbidden_campaigns"]
    header = ";".join(f"colonne{i}" for i in range(100_000))  # a million-column header made a 10.9 MB reason
    (home.inbox / spec.name / "large.csv").write_text(header + "\n" + ";" * 99_999 + "\n", encoding="utf-8")
    land_source(home, spec, store, manifest, "r1")
    [outcome] = validate_source(home, spec, manifest, store, "r1")
    assert outcome.status == "rejected" and len(outcome.reason) < 360
    assert outcome.reason.endswith("more characters)")
    assert manifest.files()[0]["reason"] == outcome.reason
