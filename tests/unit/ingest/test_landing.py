"""Landing: files kept as received, by content hash; the same bytes twice is a no-op."""

import hashlib

from connectors.landing_store import LocalLandingStore
from mediarecon.ingest.sources import INBOX_FOLDERS
from mediarecon.ingest.tabular import land_source
from mediarecon.state.manifest import Manifest
from mediarecon.settings import Settings
from mediarecon.ingest.sources import SOURCES


def test_same_bytes_twice_is_a_no_op_and_new_bytes_land(tmp_path):
    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    manifest, store = Manifest(home.manifest), LocalLandingStore(home.landing)
    spec = SOURCES["forbidden_campaigns"]
    data = "Campagne;Annonceur;Interdite depuis le;Motif\nCMP-2025-0001;SPF;01/04/2025;x\n".encode()
    (home.inbox / spec.name / "list.csv").write_bytes(data)
    assert land_source(home, spec, store, manifest, "r1") == 1
    sha = hashlib.sha256(data).hexdigest()
    landed = home.landing / spec.name / f"{sha}.csv"
    assert landed.read_bytes() == data
    # same bytes, again and under another name: nothing new
    (home.inbox / spec.name / "copy.csv").write_bytes(data)
    assert land_source(home, spec, store, manifest, "r2") == 0
    assert [r["original_name"] for r in manifest.files()] == ["list.csv"]
    # different bytes under the same name: a new file, the old one kept
    (home.inbox / spec.name / "list.csv").write_bytes(data + b"CMP-2025-0002;SPF;02/04/2025;y\n")
    assert land_source(home, spec, store, manifest, "r3") == 1
    assert landed.exists() and len(list((home.landing / spec.name).glob("*.csv"))) == 2


def test_a_copy_left_half_done_by_a_killed_run_is_removed_by_the_next(tmp_path):
    """kill -9 while copies are in flight (the failure drills' land:stored) leaves a temp file; the next
    landing of that source deletes it and lands the file whole."""
    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    manifest, store = Manifest(home.manifest), LocalLandingStore(home.landing)
    spec = SOURCES["forbidden_campaigns"]
    data = "Campagne;Annonceur;Interdite depuis le;Motif\nCMP-2025-0001;SPF;01/04/2025;x\n".encode()
    (home.inbox / spec.name / "list.csv").write_bytes(data)
    (home.landing / spec.name).mkdir(parents=True, exist_ok=True)
    (home.landing / spec.name / ".landing-k1ll3d").write_bytes(data[:10])
    assert land_source(home, spec, store, manifest, "r1") == 1
    assert sorted(p.name for p in (home.landing / spec.name).iterdir()) == [hashlib.sha256(data).hexdigest() + ".csv"]


def test_many_files_land_side_by_side_in_the_inbox_order_and_copies_are_receipts(tmp_path):
    """Files are hashed and copied several at a time: each lands once, the manifest is written in the
    inbox's order, and a copy under another name in the same pass is a receipt, not a second landing."""
    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    manifest, store = Manifest(home.manifest), LocalLandingStore(home.landing)
    spec = SOURCES["forbidden_campaigns"]
    bodies = {f"list-{i:02d}.csv": f"Campagne;Annonceur;Interdite depuis le;Motif\nCMP-2025-{i:04d};SPF;01/04/2025;x\n"
              .encode() for i in range(20)}
    bodies["zz-copy-of-03.csv"] = bodies["list-03.csv"]
    for name, data in bodies.items():
        (home.inbox / spec.name / name).write_bytes(data)
    assert land_source(home, spec, store, manifest, "r1") == 20
    files = manifest.files()
    assert [r["original_name"] for r in files] == sorted(n for n in bodies if n != "zz-copy-of-03.csv")
    assert all((home.landing / r["landing_key"]).read_bytes() == bodies[r["original_name"]] for r in files)
    assert manifest.received_names(spec.name, ["zz-copy-of-03.csv", "list-03.csv"]) == {"zz-copy-of-03.csv", "list-03.csv"}
    assert not list((home.landing / spec.name).glob(".landing-*"))  # no temporary file left


def test_an_api_answer_is_stored_under_its_hash_once(tmp_path):
    store = LocalLandingStore(tmp_path)
    answer = b'{"codeRetour": 0}'
    first = store.put_bytes("chorus_pro", answer, ".json")
    assert first.is_new and first.key == f"chorus_pro/{hashlib.sha256(answer).hexdigest()}.json"
    assert (tmp_path / first.key).read_bytes() == answer
    again = store.put_bytes("chorus_pro", answer, ".json")
    assert not again.is_new and again.key == first.key
    assert [p.name for p in (tmp_path / "chorus_pro").iterdir()] == [first.key.split("/")[1]]


def test_an_inbox_file_unchanged_since_it_landed_is_not_read_again_and_a_rewritten_one_is(tmp_path, monkeypatch):
    """The inbox keeps the senders' files (a State-year is gigabytes): a night reads only those whose size,
    modification time or inode changed since they were hashed; the same size rewritten is read and lands."""
    import os

    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    manifest, store = Manifest(home.manifest), LocalLandingStore(home.landing)
    spec = SOURCES["forbidden_campaigns"]
    header = "Campagne;Annonceur;Interdite depuis le;Motif\n"
    for i in range(3):
        (home.inbox / spec.name / f"list-{i}.csv").write_text(header + f"CMP-2025-000{i};SPF;01/04/2025;x\n")
    read = []
    real = store.land
    monkeypatch.setattr(store, "land", lambda source, path, known: read.append(path.name) or real(source, path,
                                                                                                   known))
    assert land_source(home, spec, store, manifest, "r1") == 3 and sorted(read) == ["list-0.csv", "list-1.csv",
                                                                                 "list-2.csv"]
    read.clear()
    assert land_source(home, spec, store, manifest, "r2") == 0 and read == []
    # the same size, other bytes, in place (same inode): its new modification time gives it away
    path = home.inbox / spec.name / "list-1.csv"
    before = os.stat(path)
    path.write_text(header + "CMP-2025-0009;SPF;01/04/2025;y\n")
    assert os.stat(path).st_size == before.st_size and os.stat(path).st_ino == before.st_ino
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    assert land_source(home, spec, store, manifest, "r3") == 1 and read == ["list-1.csv"]
    # a file replaced by another one (a new inode) with the same size and time is read too
    read.clear()
    other = home.inbox / spec.name / "tmp"
    other.write_text(header + "CMP-2025-0008;SPF;01/04/2025;z\n")
    stat1 = os.stat(home.inbox / spec.name / "list-2.csv")
    os.utime(other, ns=(stat1.st_atime_ns, stat1.st_mtime_ns))
    os.replace(other, home.inbox / spec.name / "list-2.csv")
    assert land_source(home, spec, store, manifest, "r4") == 1 and read == ["list-2.csv"]


def test_a_file_that_cannot_be_read_leaves_no_temp_file_and_no_open_descriptor(tmp_path):
    import os

    import pytest

    store = LocalLandingStore(tmp_path / "landing")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        with pytest.raises(FileNotFoundError):
            store.land("ad_server", tmp_path / "gone.csv", set())
    assert len(os.listdir("/proc/self/fd")) == before
    assert list((tmp_path / "landing" / "ad_server").iterdir()) == []


def test_a_file_is_read_once_to_land_and_one_still_being_written_is_deferred(tmp_path, monkeypatch):
    """Hashed as it is copied: one read of the inbox file. A sender still appending to a file while it is
    read (here a shell loop, in its own process) leaves it for a later run, noted `deferred`; nothing lands."""
    import builtins
    import subprocess
    import time

    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    manifest, store = Manifest(home.manifest), LocalLandingStore(home.landing)
    spec = SOURCES["forbidden_campaigns"]
    path = home.inbox / spec.name / "list.csv"
    data = ("Campagne;Annonceur;Interdite depuis le;Motif\n" + "CMP-2025-0001;SPF;01/04/2025;x\n" * 200_000).encode()
    path.write_bytes(data)
    opened, real_open = [], builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: (opened.append(str(f)), real_open(f, *a, **k))[1])
    assert land_source(home, spec, store, manifest, "r1") == 1
    monkeypatch.undo()
    assert opened.count(str(path)) == 1
    sha = hashlib.sha256(data).hexdigest()
    assert (home.landing / spec.name / f"{sha}.csv").read_bytes() == data

    growing = home.inbox / spec.name / "growing.csv"
    growing.write_bytes(data)
    writer = subprocess.Popen(["sh", "-c", f"while :; do echo 'CMP-2025-0002;SPF;01/04/2025;y' >> '{growing}'; done"])
    try:
        time.sleep(0.2)
        assert land_source(home, spec, store, manifest, "r2") == 0
    finally:
        writer.kill()
        writer.wait()
    notes = {n["original_name"]: (n["status"], n["reason"]) for n in manifest.inbox_notes()}
    assert notes["growing.csv"] == ("deferred", "its content changed while it was being read: landed at a later run")
    assert sorted(p.name for p in (home.landing / spec.name).iterdir()) == [f"{sha}.csv"]  # no temp file left
