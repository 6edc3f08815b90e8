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
