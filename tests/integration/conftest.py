"""The nightly runs the integration tests share, one chain per test module (module scope): the Chorus Pro
simulator, the alert receivers, a first run on the generated inbox, a second on the same inbox, a third
with broken files added."""

import os

import duckdb
import pytest

from mediarecon.alerts.rules import DEFAULT_RULES_PATH
from mediarecon.paths import read_seed
from tests.conftest import copy_inbox
from tests.integration.nightly import (FIRST_RUN_BUSINESS, ON_CALL, advertiser_email, business_marts, marts, run)
from tests.receivers import SmtpReceiver, WebhookReceiver


@pytest.fixture(scope="module")
def chorus_pro(state_year):
    """The Chorus Pro simulator on loopback, and the nightly pointed at it."""
    from mediarecon.settings import ChorusSettings
    from simulators.chorus_pro import ChorusProSimulator

    saved = dict(os.environ)
    with ChorusProSimulator(state_year, ChorusSettings.from_env().client_config()) as sim:
        os.environ.update({"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": sim.url,
                           "MEDIARECON_CHORUS_TOKEN_URL": sim.url + "/api/oauth/token",
                           "MEDIARECON_CHORUS_PAGE_SIZE": "25"})
        yield sim
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def alert_receivers(chorus_pro, tmp_path_factory):
    """A real SMTP server and a JSON webhook on 127.0.0.1; every advertiser routed to its own address."""
    rules = tmp_path_factory.mktemp("rules") / "alert_rules.yml"
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8").replace("  default: [all]", "  default: [astreinte, hook]")
    routes = "".join(f"    {a['advertiser_id']}: {{emails: [{advertiser_email(a['advertiser_id'])}]}}\n"
                     for a in read_seed("advertisers"))
    rules.write_text(text.replace("  advertisers: {}\n", "  advertisers:\n" + routes), encoding="utf-8")
    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        saved = {k: os.environ.get(k) for k in ("MEDIARECON_ALERT_URLS", "MEDIARECON_ALERT_RULES")}
        os.environ["MEDIARECON_ALERT_URLS"] = f"astreinte={smtp.url(ON_CALL)}, hook={hook.url}"
        os.environ["MEDIARECON_ALERT_RULES"] = str(rules)
        smtp.snapshots, hook.snapshots = {}, {}
        yield smtp, hook
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def first_run(state_year, tmp_path_factory, alert_receivers):
    home = copy_inbox(state_year, tmp_path_factory.mktemp("home"))
    summary = run(home)
    smtp, hook = alert_receivers
    smtp.snapshots["first"], hook.snapshots["first"] = list(smtp.messages), list(hook.posts)
    FIRST_RUN_BUSINESS.update(business_marts(home / "warehouse" / "mediarecon.duckdb"))
    return home, summary, marts(home)


@pytest.fixture(scope="module")
def second_run(first_run, alert_receivers):
    home, _, before = first_run
    # the auditor keeps a connection open on the published warehouse for the whole run
    auditor = duckdb.connect(str(home / "warehouse" / "mediarecon.duckdb"), read_only=True)
    seen_before = auditor.execute("select count(*) from fct_findings").fetchone()[0]
    summary = run(home)
    assert auditor.execute("select count(*) from fct_findings").fetchone()[0] == seen_before
    auditor.close()
    smtp, hook = alert_receivers
    smtp.snapshots["second"], hook.snapshots["second"] = list(smtp.messages), list(hook.posts)
    return home, summary, before, marts(home)


@pytest.fixture(scope="module")
def broken_run(second_run):
    home, _, _, before = second_run
    (home / "inbox" / "ad_server" / "export_tronque.csv").write_text("Date,Impressions\n2025-03-01,1\n")
    (home / "inbox" / "regie_reports" / "bilan_errone.csv").write_bytes(
        ("Référence ordre;Campagne;Support;Date de diffusion;Type d'unité;Quantité diffusée;Montant net HT\r\n"
         "2599999999-001;X;TF1 Publicité;03/03/2025;Spot;2;100,00\r\n"
         "2599999999-001;X;TF1 Publicité;32/03/2025;Spot;2;100,00\r\n"
         "2599999999-001;X;TF1 Publicité;05/03/2025;Spot;deux;100,00\r\n").encode("cp1252"))
    summary = run(home)
    return home, summary, before, marts(home)
