import hashlib
import os
import shutil
from pathlib import Path

import pytest

import mediarecon.flows  # noqa: F401  (sets Prefect's environment before anything imports prefect)

# The Chorus Pro credentials have no default: the tests set their own (the simulator accepts only these),
# and every process a test starts inherits them.
TEST_CHORUS_CREDENTIALS = {
    "MEDIARECON_CHORUS_CLIENT_ID": "mediarecon-tests",
    "MEDIARECON_CHORUS_CLIENT_SECRET": "tests-client-secret",
    "MEDIARECON_CHORUS_LOGIN": "TECH_mediarecon_tests@cpro.fr",
    "MEDIARECON_CHORUS_PASSWORD": "tests-technical-password",
}
for _name, _value in TEST_CHORUS_CREDENTIALS.items():
    os.environ.setdefault(_name, _value)
# the tests write their inbox just before running: no file waits for the settling delay
os.environ.setdefault("MEDIARECON_INBOX_SETTLE_S", "0")

@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect API for the whole session (it takes 10-25 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def state_year(tmp_path_factory) -> Path:
    """Seed 3 at a small scale: two labelled anomalies of each type, ~50k ad-server rows."""
    from simulators.state_year import generate

    out = tmp_path_factory.mktemp("state_year")
    generate(out, seed=3, scale=0.05)
    return out


def copy_inbox(state_year: Path, home: Path, skip: tuple[str, ...] = ()) -> Path:
    for source in (state_year / "inbox").iterdir():
        if source.name not in skip:
            shutil.copytree(source, home / "inbox" / source.name, dirs_exist_ok=True)
    return home


def tree_state(root: Path) -> dict:
    """Every file under root with its size, modification time and content hash."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(root.rglob("*")) if p.is_file()}
