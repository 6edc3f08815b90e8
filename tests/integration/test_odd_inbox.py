"""A nightly with the odd files of a careless sender in its inbox publishes as if they were not there,
and `status` names each of them once with what was done."""

import json
import os
import time

import pytest
from typer.testing import CliRunner

from mediarecon.cli import app
from mediarecon.ingest.sources import INBOX_FOLDERS
from mediarecon.state.home import Home
from tests.conftest import copy_inbox
from tests.integration.nightly import business_marts, run

pytestmark = pytest.mark.usefixtures("prefect_server")
cli = CliRunner()
ODD = {"ad_server/rapport." + "x" * 200 + ".CSV.txt": "ignored", "ad_server/lien.csv": "skipped",
       "regie_reports/.~lock.bilan.csv#": "ignored", "order_lines/tube.csv": "skipped",
       "forbidden_campaigns/en_cours.csv": "deferred"}


def test_a_night_with_odd_files_publishes_the_normal_ones_and_names_each_odd_one(state_year, tmp_path, monkeypatch):
    clean = copy_inbox(state_year, tmp_path / "clean")
    run(clean)
    home = copy_inbox(state_year, tmp_path / "home")
    Home(home).ensure(INBOX_FOLDERS)
    inbox = home / "inbox"
    (inbox / "ad_server" / ("rapport." + "x" * 200 + ".CSV.txt")).write_text("Report Name,x\n")
    (inbox / "ad_server" / "lien.csv").symlink_to(state_year / "ground_truth" / "anomalies.csv")
    (inbox / "regie_reports" / ".~lock.bilan.csv#").write_text("locked")
    os.mkfifo(inbox / "order_lines" / "tube.csv")
    with open(os.fsencode(inbox / "purchase_orders") + b"/bdc_\xe9t\xe9.csv", "wb") as f:  # a Latin-1 name...
        f.write((next((state_year / "inbox" / "purchase_orders").glob("*.csv"))).read_bytes())  # ...same bytes
    old = time.time() - 3600
    for p in inbox.rglob("*"):
        if p.is_file() and not p.is_symlink():
            os.utime(p, (old, old))
    (inbox / "forbidden_campaigns" / "en_cours.csv").write_text("Campagne;Annonceur;Interdite depuis le;Motif\n")
    monkeypatch.setenv("MEDIARECON_INBOX_SETTLE_S", "60")
    result = cli.invoke(app, ["run", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert business_marts(home / "warehouse" / "mediarecon.duckdb") == business_marts(
        clean / "warehouse" / "mediarecon.duckdb")  # every valid row of the normal files, nothing else
    status = json.loads(cli.invoke(app, ["status", "--home", str(home), "--format", "json"]).output)
    named = {f"{n['source']}/{n['original_name']}": n["status"] for n in status["inbox_not_landed"]}
    assert named == ODD
    text = cli.invoke(app, ["status", "--home", str(home)]).output
    assert all(text.count(name.split("/", 1)[1]) == 1 for name in ODD)
    assert "\n" not in "".join(n["original_name"] for n in status["inbox_not_landed"])
