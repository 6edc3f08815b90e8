"""Partial nights: a source that cannot be reached does not hold back the others. With Chorus Pro down the
night's deliveries are published (exit 4, an alert says so) and the next run, Chorus Pro back, has every
invoice exactly once."""

import json

import pytest
from typer.testing import CliRunner

from mediarecon.alerts.store import store_for
from mediarecon.cli import app
from mediarecon.ingest.sources import INBOX_FOLDERS
from mediarecon.settings import ChorusSettings
from mediarecon.state.home import Home
from mediarecon.state.manifest import Manifest
from simulators.chorus_pro import ChorusProSimulator, Faults
from tests.conftest import copy_inbox
from tests.integration.nightly import query_json

pytestmark = pytest.mark.usefixtures("prefect_server")
cli = CliRunner()


def test_chorus_pro_down_publishes_the_night_without_it_and_the_next_run_catches_up(state_year, tmp_path,
                                                                                      monkeypatch):
    home = copy_inbox(state_year, tmp_path / "home")
    Home(home).ensure(INBOX_FOLDERS)
    invoices = json.loads((state_year / "chorus" / "invoices.json").read_text(encoding="utf-8"))["invoices"]
    with ChorusProSimulator(state_year, ChorusSettings.from_env().client_config(),
                            faults=Faults(unavailable=True)) as sim:
        for k, v in {"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": sim.url,
                     "MEDIARECON_CHORUS_TOKEN_URL": sim.url + "/api/oauth/token", "MEDIARECON_CHORUS_PAGE_SIZE": "25",
                     "MEDIARECON_CHORUS_BACKOFF_S": "0.01", "MEDIARECON_CHORUS_MAX_ATTEMPTS": "2"}.items():
            monkeypatch.setenv(k, v)
        down = cli.invoke(app, ["run", "--home", str(home)])
        assert down.exit_code == 4, down.output
        assert "published, incomplete: chorus_pro not reached (ChorusError: PISTE token endpoint" in down.output
        # the file-drop sources are published, Chorus Pro's invoices are not, its watermark did not move
        assert query_json(home, "select count(*) as n from fct_order_line_delivery")[0]["n"] > 0
        assert query_json(home, "select count(*) as n from fct_invoice_payments")[0]["n"] == 0
        assert Manifest(home / "landing" / "manifest.sqlite").watermark("chorus_pro") is None
        record = json.loads(cli.invoke(app, ["status", "--home", str(home), "--format", "json"]).output)["runs"][0]
        assert record["status"] == "succeeded" and list(record["summary"]["sources_unavailable"]) == ["chorus_pro"]
        [alert] = store_for(Home(home)).alerts(status="open", rule="source_unavailable")
        assert alert["entity_key"] == "chorus_pro"

        sim.faults.unavailable = False
        back = cli.invoke(app, ["run", "--home", str(home)])
        assert back.exit_code == 0, back.output
    rows = query_json(home, "select count(*) as n, count(distinct invoice_id) as d from fct_invoice_payments")[0]
    assert rows == {"n": len(invoices), "d": len(invoices)}
    assert not store_for(Home(home)).alerts(status="open", rule="source_unavailable")  # cleared
