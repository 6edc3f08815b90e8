"""The morning alerts of real nightlies: every labelled drop alerted once to its recipients with its chart,
nothing for roll-ups or planned pauses, nothing twice the same night, and the on-call commands."""

import csv
import json

import pytest

from mediarecon.cli import app
from tests.integration.nightly import (ON_CALL, advertiser_email, campaign_advertisers, cli, dbt_results,
                                      mediarecon, query_json)
from tests.receivers import attachments

pytestmark = pytest.mark.usefixtures("prefect_server", "chorus_pro")


def test_every_labelled_drop_is_alerted_once_to_its_recipients_with_its_chart(first_run, state_year,
                                                                               alert_receivers):
    home, summary, _ = first_run
    smtp, hook = alert_receivers
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        drops = [r for r in csv.DictReader(f)
                 if r["anomaly_type"] in ("delivery_drop", "email_deliverability_drop")]
    assert drops
    advertiser_of = campaign_advertisers(state_year)
    labels = {"delivery_drop": "Chute de diffusion de la campagne",
              "email_deliverability_drop": "Chute de délivrabilité e-mail"}
    messages, posts = smtp.snapshots["first"], hook.snapshots["first"]
    for d in drops:
        about = f"{labels[d['anomaly_type']]} : {d['entity_key']} (alerte n° "
        mails = [(rcpt, m) for rcpt, m in messages if about in m["subject"]]
        expected = {ON_CALL, advertiser_email(advertiser_of[d["entity_key"].split("|")[0]])}
        assert sorted(r for rcpt, _ in mails for r in rcpt) == sorted(expected), d["entity_key"]
        for _, m in mails:
            (name, kind, png), = attachments(m)
            assert kind == "image/png" and png.startswith(b"\x89PNG") and len(png) > 5000
            body = m.get_body(("plain",)).get_content()
            first = "/".join(reversed(d["first_date"].split("-")))
            assert f"Période : du {first}" in body and "Preuve : fichier reçu" in body
        hooked = [p for p in posts if about in p["title"]]
        assert len(hooked) == 1 and hooked[0]["attachments"][0]["mimetype"] == "image/png"
        # the webhook's type follows the level the message states (apprise's default was "info" for all)
        assert hooked[0]["type"] == ("failure" if "(critique)" in hooked[0]["message"] else "warning")
    # no other campaign, and no ISP, was alerted: normal weekends and planned pauses raise nothing
    alerted = {(m["subject"].split(" : ")[1].split(" (alerte")[0]) for _, m in messages
               if any(label in m["subject"] for label in labels.values())}
    assert alerted == {d["entity_key"] for d in drops}
    assert summary["alerts"]["failed"] == 0 and summary["alerts"]["pending"] == 0


def test_roll_up_drops_only_echo_a_labelled_campaign_drop(first_run, state_year):
    home, _, _ = first_run
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        drops = [r for r in csv.DictReader(f) if r["anomaly_type"] == "delivery_drop"]
    advertiser_of = campaign_advertisers(state_year)
    rolled = query_json(home, "select alert_rule, entity_key, first_date, last_date from fct_alert_conditions"
                              " where alert_rule in ('advertiser_delivery_drop', 'seller_delivery_drop')")
    for r in rolled:
        assert any(r["first_date"] <= d["last_date"] and d["first_date"] <= r["last_date"]
                   and (r["alert_rule"] == "seller_delivery_drop"
                        or advertiser_of[d["entity_key"]] == r["entity_key"]) for d in drops), r


def test_planned_pauses_would_be_drops_but_raise_nothing(first_run, state_year):
    home, _, _ = first_run
    with open(next((state_year / "inbox" / "planned_pauses").glob("*.csv")), encoding="utf-8") as f:
        paused = [r["Campagne"] for r in csv.DictReader(f, delimiter=";")]
    assert paused
    for campaign in paused:
        days = query_json(home, "select volume, baseline_volume, baseline_weeks, is_drop_day from fct_daily_volumes"
                                f" where series_type = 'campaign' and series_key = '{campaign}' and is_paused")
        assert len(days) >= 5
        # at zero against a real baseline: without the pause file these days would be a drop
        assert all(d["volume"] == 0 and not d["is_drop_day"] for d in days)
        assert any(d["baseline_weeks"] >= 2 and d["baseline_volume"] >= 100 for d in days)
    conditions = query_json(home, "select entity_key from fct_alert_conditions where alert_rule = 'delivery_drop'")
    assert not set(paused) & {c["entity_key"] for c in conditions}


def test_second_run_the_same_night_sends_nothing(second_run, alert_receivers):
    _, summary, _, _ = second_run
    smtp, hook = alert_receivers
    assert len(smtp.snapshots["second"]) == len(smtp.snapshots["first"]) > 0
    assert len(hook.snapshots["second"]) == len(hook.snapshots["first"]) > 0
    assert {k: summary["alerts"][k] for k in ("opened", "escalated", "resolved", "sent")} == \
        {"opened": 0, "escalated": 0, "resolved": 0, "sent": 0}


def test_on_call_commands_list_show_and_acknowledge(first_run):
    home, _, _ = first_run
    listed = json.loads(mediarecon("alerts", "list", "--home", home, "--all", "--format", "json"))
    drop = next(a for a in listed if a["alert_rule"] == "delivery_drop")
    shown = mediarecon("alerts", "show", drop["alert_id"], "--home", home)
    assert f"Entité (campagne) : {drop['entity_key']}" in shown and "-> astreinte" in shown and " sent " in shown
    finding = next(a for a in listed if a["status"] == "open")
    assert "acknowledged by lea" in mediarecon("alerts", "ack", finding["alert_id"], "--by", "lea", "--home", home)
    again = {a["alert_id"]: a for a in json.loads(mediarecon("alerts", "list", "--home", home, "--format", "json"))}
    assert again[finding["alert_id"]]["status"] == "acknowledged"
    result = cli.invoke(app, ["alerts", "show", "99999", "--home", str(home)])
    assert result.exit_code == 2 and "no alert n° 99999" in result.output


def test_a_default_nightly_skips_dbt_unit_tests_and_its_docs_reuse_the_build_parse(first_run):
    """A nightly's dbt work is the night's data (models, data tests, contracts); the unit tests, which do not
    depend on it, run in CI (test_nightly.py, test_spark.py). The data dictionary starts from the build's
    parse instead of parsing the project a second time."""
    home, _, _ = first_run
    kinds = {uid.split(".")[0] for uid in dbt_results(home)}
    assert kinds == {"model", "seed", "test"}
    docs_log = (home / "runs" / "dbt" / "docs" / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "no changes found, skipping parsing" in docs_log and "Starting full parse" not in docs_log
    published = json.loads((home / "exports" / "docs" / "manifest.json").read_text(encoding="utf-8"))
    compiled = published["nodes"]["model.mediarecon.fct_findings"]["compiled_code"]  # the build's compiled SQL
    assert "left join finding_types" in compiled and "{{" not in compiled
    assert "Starting full parse" in (home / "runs" / "dbt" / "logs" / "dbt.log").read_text(encoding="utf-8")
