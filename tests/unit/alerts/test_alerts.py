"""The alert step without a warehouse: the rules file, the store's once-only logic, real SMTP and HTTP
receivers on 127.0.0.1, a channel that is down."""

import datetime as dt
import json
from pathlib import Path

import pytest

from mediarecon.alerts import conditions, messages, process, sending
from mediarecon.alerts import store as alert_store
from mediarecon.alerts.rules import DEFAULT_RULES_PATH, AlertRulesError, load_rules, parse_channels
from tests.receivers import SmtpReceiver, WebhookReceiver, attachments, free_port

NOW = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.timezone.utc)


def write_rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alert_rules.yml"
    path.write_text(text, encoding="utf-8")
    return path


def default_with(**replace) -> str:
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


# ---------------------------------------------------------------------- the rules file
def test_shipped_rules_are_valid_and_feed_dbt():
    rules = load_rules(DEFAULT_RULES_PATH, {})
    assert rules.dbt_vars()["drop_rules"] == {
        "ad_server": {"share_pct": 50.0, "min_baseline": 100, "min_days": 2},
        "email": {"share_pct": 50.0, "min_baseline": 100, "min_days": 2},
    }
    assert rules.finding_alerts("critical") and rules.finding_alerts("high") and not rules.finding_alerts("medium")


@pytest.mark.parametrize("text, line, words", [
    ("drops:\n  ad_server: {share_pct: 50\nrouting: {}\n", 3, "not valid YAML"),
    (default_with(**{"    share_pct: 50\n    min_baseline: 100\n    min_days: 2\n  email:":
                     "    share_pct: 150\n    min_baseline: 100\n    min_days: 2\n  email:"}), 12,
     "drops.ad_server.share_pct: 150 must be between 0 and 100"),
    (default_with(**{"  factor: 3 ": "  facteur: 3 "}), 22, "unknown key bounce_rise.facteur"),
    (default_with(**{"  min_severity: high": "  min_severity: grave"}), 34, "'grave' is not one of"),
    (default_with(**{"  ad_server: 3\n": "  ad_servers: 3\n"}), 38, "unknown key freshness_days.ad_servers"),
    (default_with(**{"  advertisers: {}": "  advertisers:\n    ADV-NOPE: {emails: [a@b.fr]}"}), 50,
     "'ADV-NOPE' is not an advertiser id"),
    (default_with(**{"  advertisers: {}": "  advertisers:\n    ADV-SIG: {emails: [pas-une-adresse]}"}), 50,
     "'pas-une-adresse' is not an e-mail address"),
    (default_with(**{"  default: [all]": "  default: [astreinte, sms]"}), 48,
     "channel 'sms' is not in MEDIARECON_ALERT_URLS"),
])
def test_a_malformed_rules_file_is_refused_naming_its_line(tmp_path, text, line, words):
    path = write_rules(tmp_path, text)
    with pytest.raises(AlertRulesError) as e:
        load_rules(path, {"astreinte": "mailto://127.0.0.1:25?to=a@b.fr"})
    assert f"{path}, line {line}:" in str(e.value)
    assert words in str(e.value)


def test_channels_split_on_urls_not_on_the_commas_inside_them():
    channels = parse_channels("astreinte=mailto://127.0.0.1:2525?from=a@x.fr&to=b@x.fr,c@x.fr,"
                              " json://127.0.0.1:9000/hook  slack://T1/B2/C3")
    assert channels == {"astreinte": "mailto://127.0.0.1:2525?from=a@x.fr&to=b@x.fr,c@x.fr",
                        "channel2": "json://127.0.0.1:9000/hook", "channel3": "slack://T1/B2/C3"}
    with pytest.raises(AlertRulesError, match="not an apprise URL"):
        parse_channels("pas-une-url")


def test_advertiser_routing_adds_its_channels_and_its_recipients(tmp_path):
    path = write_rules(tmp_path, default_with(**{
        "  default: [all]": "  default: [astreinte]",
        "  advertisers: {}": "  advertisers:\n    ADV-SIG: {channels: [teams], emails: [com@sig.gouv.fr]}"}))
    channels = {"astreinte": "mailto://127.0.0.1:25?to=astreinte@sig.gouv.fr", "teams": "json://127.0.0.1:1/x"}
    rules = load_rules(path, channels)
    assert rules.route("ADV-SIG", channels) == {"astreinte": ("com@sig.gouv.fr",), "teams": ("com@sig.gouv.fr",)}
    assert rules.route("ADV-DDD", channels) == {"astreinte": ()}
    assert sending.with_recipients(channels["astreinte"], ("com@sig.gouv.fr",)) == \
        "mailto://127.0.0.1:25?to=astreinte@sig.gouv.fr,com@sig.gouv.fr"
    assert sending.with_recipients(channels["teams"], ("com@sig.gouv.fr",)) == channels["teams"]


# ---------------------------------------------------------------------- the store
def drop(level=1, ongoing=True, last="2025-06-12"):
    return alert_store.Condition("delivery_drop|CMP-2025-0007|2025-06-10", "delivery_drop", "CMP-2025-0007", "ADV-SIG",
                            "CMP-2025-0007", "2025-06-10", last, ongoing, level,
                            {"observed_value": 1200.0, "baseline_value": 90000.0, "lowest_share_pct": 0.0,
                             "amount_at_stake_eur": "123.45", "series_type": "campaign",
                             "series_key": "CMP-2025-0007", "evidence_file_sha256": "ab" * 32,
                             "evidence_line": 42, "evidence_source": "ad_server"})


class FakeHome:
    """The home layout the alert step uses (a real folder, no warehouse)."""

    def __init__(self, root: Path):
        self.root = root
        self.manifest = root / "landing" / "manifest.sqlite"


def test_open_then_same_then_escalate_then_resolve_sends_three_messages(tmp_path):
    home = FakeHome(tmp_path)
    store = alert_store.store_for(home)
    with SmtpReceiver() as smtp:
        channels = {"astreinte": smtp.url("astreinte@sig.gouv.fr")}
        route = lambda c: {"astreinte": ()}  # noqa: E731

        def night(conditions, run_id):
            store.evaluate(conditions, {"delivery_drop"}, route, run_id, NOW)
            return sending.deliver(store, channels, home, None, NOW, log=lambda m: None)

        assert night([drop(level=1)], "r1") == (1, 0)
        assert night([drop(level=1)], "r2") == (0, 0)  # the same night again: nothing new
        assert night([drop(level=1, last="2025-06-13")], "r3") == (0, 0)  # longer, not worse
        assert night([drop(level=2, last="2025-06-14")], "r4") == (1, 0)  # escalates once
        assert night([drop(level=2, ongoing=False, last="2025-06-14")], "r5") == (1, 0)  # clears
        assert night([], "r6") == (0, 0)
    subjects = [m["subject"] for _, m in smtp.messages]
    assert len(subjects) == 3
    assert subjects[0].startswith("[mediarecon] Chute de diffusion de la campagne : CMP-2025-0007 (alerte n° 1)")
    assert subjects[1].startswith("[mediarecon] AGGRAVATION — ")
    assert subjects[2].startswith("[mediarecon] RÉSOLUE — ")
    body = smtp.messages[0][1].get_body(("plain",)).get_content()
    assert "Période : du 10/06/2025 au 12/06/2025" in body
    assert "1 200 impressions pour une ligne de base de 90 000" in body.replace("\u202f", " ")
    assert "Montant en jeu : 123,45 € HT" in body
    assert "ligne 42" in body and "mediarecon alerts ack 1" in body
    (row,) = store.alerts()
    assert (row["status"], row["alert_level"], row["last_date"]) == ("resolved", 2, "2025-06-14")


def test_a_finding_that_disappears_is_resolved_and_one_seen_over_is_sent_once(tmp_path):
    home = FakeHome(tmp_path)
    store = alert_store.store_for(home)
    over = alert_store.Condition("over_invoiced|2500000001-001|2025-05-02", "over_invoiced", "2500000001-001", None,
                            None, "2025-05-02", "2025-05-02", True, 1, {"amount_at_stake_eur": "10.00"})
    route = lambda c: {"astreinte": ()}  # noqa: E731
    assert store.evaluate([over, drop(ongoing=False)], {"over_invoiced", "delivery_drop"}, route, "r1", NOW) == \
        {"opened": 2, "escalated": 0, "resolved": 0}
    assert store.evaluate([drop(ongoing=False)], {"over_invoiced", "delivery_drop"}, route, "r2", NOW) == \
        {"opened": 0, "escalated": 0, "resolved": 1}
    events = [(n["alert_id"], n["event"]) for n in store.notifications()]
    assert events == [(1, "opened"), (2, "opened"), (1, "resolved")]
    assert store.alert(2)["status"] == "resolved"  # seen already over: one message, no resolution notice


def test_a_channel_that_is_down_keeps_the_alert_for_the_next_run(tmp_path):
    home = FakeHome(tmp_path)
    store = alert_store.store_for(home)
    smtp_port, hook_port = free_port(), free_port()
    channels = {"astreinte": f"mailto://127.0.0.1:{smtp_port}?from=a@mediarecon.test&to=astreinte@sig.gouv.fr"
                             "&mode=insecure",
                "hook": f"json://127.0.0.1:{hook_port}/alertes"}
    route = lambda c: {"astreinte": (), "hook": ()}  # noqa: E731
    store.evaluate([drop()], {"delivery_drop"}, route, "r1", NOW)
    chart = tmp_path / "alerts" / "charts" / "alert-1.png"
    chart.parent.mkdir(parents=True)
    chart.write_bytes(b"\x89PNG\r\n\x1a\n fake but kept")  # drawn by the first run
    logged = []
    assert sending.deliver(store, channels, home, None, NOW, log=logged.append) == (0, 2)
    assert len(logged) == 2 and "retried next run" in logged[0]
    pending = store.notifications(status="pending")
    assert [(n["channel"], n["attempts"]) for n in pending] == [("astreinte", 1), ("hook", 1)]
    with SmtpReceiver(smtp_port) as smtp, WebhookReceiver(hook_port) as hook:
        store.evaluate([drop()], {"delivery_drop"}, route, "r2", NOW)  # next night: nothing new...
        assert sending.deliver(store, channels, home, None, NOW) == (2, 0)  # ...but the backlog goes
        assert sending.deliver(store, channels, home, None, NOW) == (0, 0)
    assert len(smtp.messages) == 1 and len(hook.posts) == 1
    assert [a[:2] for a in attachments(smtp.messages[0][1])] == [("alert-1.png", "image/png")]
    assert hook.posts[0]["title"].startswith("[mediarecon] Chute de diffusion de la campagne")
    assert [a["filename"] for a in hook.posts[0]["attachments"]] == ["alert-1.png"]
    assert all(n["status"] == "sent" and n["attempts"] == 2 for n in store.notifications())


def test_acknowledging_keeps_the_alert_listed_and_still_sends_its_resolution(tmp_path):
    home = FakeHome(tmp_path)
    store = alert_store.store_for(home)
    route = lambda c: {"astreinte": ()}  # noqa: E731
    store.evaluate([drop()], {"delivery_drop"}, route, "r1", NOW)
    row = store.acknowledge(1, "lea", NOW)
    assert (row["status"], row["acknowledged_by"]) == ("acknowledged", "lea")
    store.evaluate([drop(ongoing=False)], {"delivery_drop"}, route, "r2", NOW)
    assert [n["event"] for n in store.notifications()] == ["opened", "resolved"]
    assert json.loads(store.alert(1)["details"])["evidence_line"] == 42


def test_run_refuses_a_malformed_rules_file_before_starting(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from mediarecon.cli import app

    path = write_rules(tmp_path, default_with(**{"    min_days: 2\n  email:": "    min_days: deux\n  email:"}))
    monkeypatch.setenv("MEDIARECON_ALERT_RULES", str(path))
    assert CliRunner().invoke(app, ["init", "--home", str(tmp_path / "home")]).exit_code == 0
    result = CliRunner().invoke(app, ["run", "--home", str(tmp_path / "home")])
    assert result.exit_code == 2
    assert f"{path}, line 14: drops.ad_server.min_days: 'deux' is not a whole number" in result.output
    assert not (tmp_path / "home" / "landing" / "manifest.sqlite").exists()  # nothing ran


def test_a_source_silent_for_longer_than_its_limit_raises_an_alert_and_clears_when_it_wakes(tmp_path):
    from mediarecon.state.manifest import Manifest

    home = FakeHome(tmp_path)
    home.manifest.parent.mkdir(parents=True)
    manifest = Manifest(home.manifest)
    manifest.record_landed("ad_server", "a" * 64, "cm360_sig_2025-06.csv", "ad_server/a.csv", 10, "r1")
    manifest.record_landed("regie_reports", "b" * 64, "bilan.csv", "regie_reports/b.csv", 10, "r1")
    rules = load_rules(write_rules(tmp_path, default_with(**{
        "freshness_days:\n  ad_server: 3\n  email_deliverability: 3\n  regie_reports: 14\n"
        "  purchase_orders: 14\n  order_lines: 14\n":
        "freshness_days:\n  ad_server: 3\n  regie_reports: 14\n  email_deliverability: 3\n"})), {})
    now = alert_store.utcnow()
    assert conditions.freshness_conditions(home.manifest, rules, now) == [
        alert_store.Condition("source_stale|email_deliverability", "source_stale", "email_deliverability", None, None,
                         None, now.date().isoformat(), True, 1,
                         {"last_received_at": None, "days_without_data": None, "limit_days": 3})]
    later = now + dt.timedelta(days=5)
    stale = conditions.freshness_conditions(home.manifest, rules, later)
    assert [(c.entity_key, c.details["days_without_data"]) for c in stale] == \
        [("ad_server", 5), ("email_deliverability", None)]
    store = alert_store.store_for(home)
    route = lambda c: {"astreinte": ()}  # noqa: E731
    store.evaluate(stale, {"source_stale"}, route, "r2", later)
    subject, body = messages.render(store.alert(1), "opened")
    assert subject == "[mediarecon] Source sans nouvelles données : ad_server (alerte n° 1)"
    assert "Aucun nouveau fichier depuis 5 jours" in body and "limite : 3 jours" in body
    manifest.record_landed("ad_server", "c" * 64, "cm360_sig_2025-07.csv", "ad_server/c.csv", 10, "r3")
    awake = alert_store.utcnow() + dt.timedelta(days=1)  # the new file is a day old
    store.evaluate(conditions.freshness_conditions(home.manifest, rules, awake), {"source_stale"}, route, "r3", awake)
    assert [n["event"] for n in store.notifications(alert_id=1)] == ["opened", "resolved"]


def test_the_06_00_check_alerts_once_when_tonights_run_is_missing_or_still_running(tmp_path):
    paris_6am = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.timezone.utc)  # 06:00 in Paris (UTC+1)
    yesterday = {"run_id": "a", "status": "succeeded", "started_at": "2026-11-21T01:00:00+00:00"}
    running = {"run_id": "b", "status": "running", "started_at": "2026-11-22T01:00:00+00:00"}
    done = {**running, "status": "succeeded"}
    failed = {**running, "status": "failed"}
    assert conditions.deadline_conditions([done, yesterday], paris_6am) == []
    assert conditions.deadline_conditions([failed], paris_6am) == []  # it alerted when it failed
    (missing,) = conditions.deadline_conditions([yesterday], paris_6am)
    assert missing.details["state"] == "aucun traitement n'a démarré"
    (late,) = conditions.deadline_conditions([running, yesterday], paris_6am)
    assert late.details["state"] == "toujours en cours (démarré à 02:00)" and late.alert_level == 2
    home = FakeHome(tmp_path)
    rules = load_rules(DEFAULT_RULES_PATH, {})
    with SmtpReceiver() as smtp:
        channels = {"astreinte": smtp.url("astreinte@sig.gouv.fr")}
        assert process.process_deadline(home, [running], rules, channels, now=paris_6am)["sent"] == 1
        assert process.process_deadline(home, [running], rules, channels, now=paris_6am)["sent"] == 0
    (_, msg), = smtp.messages
    assert msg["subject"] == "[mediarecon] Traitement de nuit non terminé à l'heure : 2026-11-22 (alerte n° 1)"
    assert "toujours en cours (démarré à 02:00)" in msg.get_body(("plain",)).get_content()


def test_a_webhook_sees_each_message_typed_by_its_level_warning_failure_then_success(tmp_path):
    home = FakeHome(tmp_path)
    store = alert_store.store_for(home)
    with WebhookReceiver() as hook:
        channels, route = {"hook": hook.url}, lambda c: {"hook": ()}  # noqa: E731
        for conditions, run_id in (([drop(level=1)], "r1"), ([drop(level=2, last="2025-06-14")], "r2"),
                                   ([drop(level=2, ongoing=False, last="2025-06-14")], "r3")):
            store.evaluate(conditions, {"delivery_drop"}, route, run_id, NOW)
            sending.deliver(store, channels, home, None, NOW, log=lambda m: None)
    assert [p["type"] for p in hook.posts] == ["warning", "failure", "success"]


def test_a_drop_chart_names_its_campaign_and_isp_and_says_what_it_counts():
    import duckdb

    from mediarecon.alerts import chart

    con = duckdb.connect()
    con.execute("create table fct_order_line_delivery as select * from (values"
                " ('CMP-2025-0004', 'Vaccination grippe 2025'), ('CMP-2025-0004', 'Vaccination grippe 2025'))"
                " t(campaign_id, campaign_name)")
    title = chart.series_title(con, {"series_type": "campaign_isp", "series_key": "CMP-2025-0004|gmail.com"})
    assert title == "Vaccination grippe 2025 (CMP-2025-0004) — gmail.com"
    assert chart.series_title(con, {"series_type": "campaign", "series_key": "CMP-2099-0001"}) == "CMP-2099-0001"
    assert chart.series_title(con, {"series_type": "advertiser", "series_key": "ADV-DDD"}) == "Défenseur des droits"
    assert chart.series_title(con, {"series_type": "seller", "series_key": "SEL-TF1"}) == "TF1 Publicité"
    assert chart.axis_labels("email") == ("jour (jj/mm/aaaa)", "e-mails délivrés par jour")
    assert chart.axis_labels("ad_server")[1] == "impressions par jour"
