"""Fuzzed inputs: 1 000+ mutated files across every file source, dropped beside the real ones. Nothing
crashes; every mutated file is validated, partly quarantined or rejected, the last two with a reason;
every row of the untouched files is kept."""

import hashlib
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from connectors.landing_store import LocalLandingStore
from mediarecon.ingest.sources import INBOX_FOLDERS
from mediarecon.ingest import einvoices, tabular
from mediarecon.state.manifest import Manifest
from mediarecon.state.home import Home
from mediarecon.ingest.sources import LANDED_ONLY, SOURCES

PER_SOURCE = 170  # x 10 sources = 1 700 mutated files, over 1 000 of them distinct (1 007 of 1 600 before #19)
MUTATIONS = ["truncate", "utf16", "latin1_bytes", "delimiter", "extra_column", "drop_column", "huge_value",
             "negative_amount", "bad_date", "garbage", "empty", "header_only", "duplicate_header", "swap_columns",
             "nul_bytes", "quote_break"]


def mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    text = data.decode("utf-8", errors="replace")
    sep = ";" if text.count(";") > text.count(",") else ","
    if kind == "truncate":
        return data[: rng.randint(0, max(len(data) - 1, 0))]
    if kind == "utf16":
        return text.encode("utf-16")
    if kind == "latin1_bytes":
        return text.encode("latin-1", errors="replace").replace(b"e", b"\xe9\xff")
    if kind == "delimiter":
        return text.replace(sep, "|" if rng.random() < 0.5 else "\t").encode()
    if kind == "extra_column":
        return b"".join(line.rstrip(b"\r\n") + f"{sep}bonus{i}".encode() + b"\n" for i, line in enumerate(lines))
    if kind == "drop_column":
        cut = rng.randint(0, 3)
        return "".join(sep.join(p for j, p in enumerate(line.split(sep)) if j != cut) for line in
                       text.splitlines(keepends=True)).encode()
    if kind in ("huge_value", "negative_amount", "bad_date"):
        out = []
        for line in text.splitlines(keepends=True)[:60]:
            cells = line.rstrip("\r\n").split(sep)
            if len(cells) > 2 and rng.random() < 0.5:
                j = rng.randrange(len(cells))
                cells[j] = {"huge_value": "9" * 40, "negative_amount": "-" + cells[j].strip() or "-1",
                            "bad_date": rng.choice(["31/02/2025", "2025-13-45", "hier", "00/00/0000"])}[kind]
            out.append(sep.join(cells) + "\n")
        return "".join(out).encode()
    if kind == "garbage":
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 4000)))
    if kind == "empty":
        return b""
    if kind == "header_only":
        return b"".join(lines[:1])
    if kind == "duplicate_header":
        return b"".join(lines[:1] + lines[:1] + lines[1:40])
    if kind == "swap_columns":
        out = []
        for line in text.splitlines(keepends=True)[:60]:
            cells = line.rstrip("\r\n").split(sep)
            if len(cells) > 3:
                cells[1], cells[2] = cells[2], cells[1]
            out.append(sep.join(cells) + "\n")
        return "".join(out).encode()
    if kind == "nul_bytes":
        pos = rng.randint(0, len(data))
        return data[:pos] + b"\x00" * rng.randint(1, 50) + data[pos:]
    if kind == "quote_break":
        return text.replace(sep, sep + '"', 3).encode()
    raise ValueError(kind)


def process(home: Home) -> list:
    """Land, validate and parse every inbox file, as the nightly does before dbt."""
    store, manifest = LocalLandingStore(home.landing), Manifest(home.manifest)
    outcomes = []
    for source in [*SOURCES, *LANDED_ONLY]:
        tabular.land_source(home, SOURCES.get(source) or LANDED_ONLY[source], store, manifest, "fuzz")
    for spec in SOURCES.values():
        outcomes += tabular.validate_source(home, spec, manifest, store, "fuzz")
    for source in einvoices.DOCUMENT_SOURCES:
        if source in LANDED_ONLY:
            outcomes += einvoices.parse_landed(home, source, manifest, store, "fuzz")
    return outcomes


def test_a_thousand_mutated_files_never_crash_and_never_cost_a_valid_row(state_year, tmp_path):
    rng = random.Random(20261122)
    home = Home(tmp_path / "home").ensure(INBOX_FOLDERS)
    originals = {}
    mutated = Counter()
    distinct = set()
    for source in [*SOURCES, *LANDED_ONLY]:
        root = state_year / "inbox" / source
        files = sorted(p for p in root.rglob("*.*") if p.is_file())
        assert files, source
        for f in files:  # the real files, untouched
            target = home.inbox / source / f.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
            originals[(source, str(f.relative_to(root)))] = f
        seeds = [f.read_bytes() for f in sorted(files, key=lambda p: p.stat().st_size)[:6]]
        real = {f.read_bytes() for f in files}
        for i in range(PER_SOURCE):
            kind = MUTATIONS[i % len(MUTATIONS)]
            seed = rng.choice(seeds)
            if kind not in ("truncate", "garbage", "empty", "nul_bytes") and not seed.startswith(b"%PDF"):
                seed = b"".join(seed.splitlines(keepends=True)[: rng.randint(2, 80)])  # a different cut each time
            data = mutate(seed, kind, rng)
            suffix = files[0].suffix if kind != "garbage" or rng.random() < 0.8 else ".csv"
            (home.inbox / source / f"zz_fuzz_{i:03d}_{kind}{suffix}").write_bytes(data)
            mutated[source] += 1
            if data not in real:  # a cut that changed nothing is the real file again
                distinct.add((source, data))
    # the same bytes twice land once (by content hash): count distinct mutated files
    assert len(distinct) >= 1000, len(distinct)

    outcomes = process(home)
    clean_home = Home(tmp_path / "clean").ensure(INBOX_FOLDERS)
    for source in [*SOURCES, *LANDED_ONLY]:
        shutil.copytree(state_year / "inbox" / source, clean_home.inbox / source, dirs_exist_ok=True)
    clean = {o.file_name: o for o in process(clean_home)}

    # every landed file has an outcome, every failure a reason naming what broke
    landed = {(r["source"], r["sha256"]) for r in Manifest(home.manifest).files()}
    assert {(o.source, o.sha256) for o in outcomes} == landed
    for o in outcomes:
        assert o.status in ("validated", "partial", "rejected"), o
        if o.status != "validated":
            assert o.reason and len(o.reason) > 10, o
    by_name = {o.file_name: o for o in outcomes}
    statuses = Counter(o.status for o in outcomes if o.file_name.startswith("zz_fuzz_"))
    assert sum(statuses.values()) >= 1000, statuses
    assert statuses["rejected"] >= 400 and statuses["partial"] >= 100, statuses
    # the real files lost nothing: each has exactly the outcome and rows it has without the fuzz beside it
    for (source, name), path in originals.items():
        o, c = by_name[name], clean[name]
        assert (o.status, o.rows_valid, o.rows_quarantined) == (c.status, c.rows_valid, c.rows_quarantined), name
    assert sum(c.rows_valid for c in clean.values()) > 50000
    # quarantined rows say where and why
    q = [pq.read_table(p).to_pylist() for p in Path(home.quarantine).glob("*/*.parquet") if p.stem != "_schema"]
    rows = [r for t in q for r in t]
    assert rows and all(r.get("rule") and r.get("file_sha256") for r in rows[:500])


def test_any_file_name_lands_or_is_reported_and_every_name_stays_printable(state_year, tmp_path):
    """Names fuzzed as a careless sender's would be: any length up to the filesystem's 255 bytes, Latin-1
    bytes, control characters, dots, spaces, odd or missing extensions (#15)."""
    rng = random.Random(20261201)
    home = Home(tmp_path / "home").ensure(INBOX_FOLDERS)
    store, manifest = LocalLandingStore(home.landing), Manifest(home.manifest)
    spec = SOURCES["forbidden_campaigns"]
    seed = min((state_year / "inbox" / spec.name).rglob("*.csv"), key=lambda p: p.stat().st_size).read_bytes()
    alphabet = [bytes([b]) for b in range(1, 256) if b not in (ord("/"),)] + ["é".encode(), "€".encode(), b"\n", b"."]
    written = {}
    for i in range(300):
        stem = b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 240)))
        suffix = rng.choice([b".csv", b".CSV", b".csv.txt", b"", b".", b".c\nsv"])
        raw = (stem + suffix)[:250] or b"x"
        if raw in (b".", b".."):
            raw = b"x" + raw
        data = seed + b"\n" * (i + 1)  # distinct bytes, the same rows
        with open(os.fsencode(home.inbox / spec.name) + b"/" + raw, "wb") as f:
            f.write(data)
        written[raw] = hashlib.sha256(data).hexdigest()
    new = tabular.land_source(home, spec, store, manifest, "names")  # never raises
    landed = {r["sha256"] for r in manifest.files()}
    notes = manifest.inbox_notes()
    assert new == len(landed) and new + len(notes) == len(written)
    names = [r["original_name"] for r in manifest.files()] + [n["original_name"] for n in notes]
    assert all(name.isprintable() for name in names)
    assert {n["status"] for n in notes} <= {"ignored"}  # a plain file is only ever ignored for its type
    assert sum(o.status == "validated" for o in tabular.validate_source(home, spec, manifest, store, "names")) == new
