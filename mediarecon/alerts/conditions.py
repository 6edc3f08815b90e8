"""Conditions an alert can be made of: the published mart `fct_alert_conditions` (drops, bounce rises,
payments due, findings), and the run itself (a source gone silent, tonight's run missing at the deadline)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mediarecon.alerts.rules import AlertRules
from mediarecon.alerts.store import Condition
from mediarecon.state.manifest import Manifest
from mediarecon.paths import read_seed
from mediarecon.vocabulary import finding_type_rows

RUN_RULES = ("nightly_failed", "nightly_late", "source_stale", "source_unavailable")
# drop alert rule -> its channel (ad_server, email), from the seed that also maps drops to finding types
DROP_CHANNELS = {row["alert_rule"]: row["channel"] for row in read_seed("volume_drop_types")}
DROP_RULES = tuple(DROP_CHANNELS)
MONITORING_RULES = (*DROP_RULES, "email_bounce_rise", "invoice_payment_due")

def warehouse_conditions(con, rules: AlertRules) -> list[Condition]:
    """The published mart's conditions this rules file asks to alert on."""
    cur = con.execute("select * from fct_alert_conditions order by alert_rule, entity_key, first_date")
    names = [d[0] for d in cur.description]
    out = []
    for values in cur.fetchall():
        r = dict(zip(names, values))
        rule = r["alert_rule"]
        severity = finding_type_rows().get(rule, {}).get("default_severity")
        if rule not in MONITORING_RULES and not rules.finding_alerts(severity):
            continue
        details = {k: _plain(v) for k, v in r.items() if k not in ("alert_rule", "entity_key", "is_ongoing",
                                                                   "alert_level", "condition_id")}
        out.append(Condition(f"{rule}|{r['entity_key']}|{r['first_date']}", rule, r["entity_key"],
                             r["advertiser_id"], r["campaign_id"], _plain(r["first_date"]), _plain(r["last_date"]),
                             bool(r["is_ongoing"]), int(r["alert_level"]), details))
    return out


def freshness_conditions(manifest_path: Path, rules: AlertRules, now: dt.datetime) -> list[Condition]:
    """A source with no new file for more than its freshness_days (or none ever received)."""
    last = Manifest(manifest_path).last_received() if manifest_path.exists() else {}
    out = []
    for source, days in sorted(rules.freshness_days.items()):
        received = dt.datetime.fromisoformat(last[source]) if last.get(source) else None
        age = (now - received).days if received else None
        if received is not None and age <= days:
            continue
        out.append(Condition(f"source_stale|{source}", "source_stale", source, None, None,
                             received.date().isoformat() if received else None, now.date().isoformat(), True, 1,
                             {"last_received_at": last.get(source), "days_without_data": age, "limit_days": days}))
    return out


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal: keep the exact text
        return str(value)
    return value


def deadline_conditions(runs: list[dict], now: dt.datetime, deadline: str = "06:00",
                        tz: str = "Europe/Paris") -> list[Condition]:
    """At the deadline: tonight's run has not succeeded. A failed run is left out: it alerted already."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    night_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    tonight = [r for r in runs if r.get("started_at")
               and dt.datetime.fromisoformat(r["started_at"]).astimezone(zone) >= night_start]
    if any(r.get("status") == "succeeded" for r in tonight) or any(r.get("status") == "failed" for r in tonight):
        return []
    state = ("toujours en cours (démarré à " + dt.datetime.fromisoformat(tonight[0]["started_at"]).astimezone(zone)
             .strftime("%H:%M") + ")") if tonight else "aucun traitement n'a démarré"
    night = local.date().isoformat()
    return [Condition(f"nightly_late|{night}", "nightly_late", night, None, None, night, night, True, 2,
                      {"deadline": deadline, "night": night, "state": state,
                       "run_id": tonight[0]["run_id"] if tonight else None})]


def unavailable_conditions(unavailable: dict[str, str], now: dt.datetime) -> list[Condition]:
    """A source this run could not reach (Chorus Pro down, an S3 sender bucket unreachable): the night was
    published without its new data, which the next run that reaches it catches up."""
    day = now.date().isoformat()
    return [Condition(f"source_unavailable|{source}", "source_unavailable", source, None, None, day, day, True, 2,
                      {"reason": reason}) for source, reason in sorted(unavailable.items())]
