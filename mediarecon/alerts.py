"""The morning alerts: conditions -> alert store -> notifications in French, sent once.

Conditions come from the published mart `fct_alert_conditions` (drops, bounce rises, payments due,
findings) and from the run itself (a failed nightly, a source gone silent). The alert store is its own
SQLite file under <home>/alerts/, never rebuilt: an alert is notified when it opens, again only when its
level rises, and once more when it clears. A notification that a channel could not take stays pending
and is retried at the next run; nothing is sent twice for the same state.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mediarecon.alert_rules import AlertRules
from mediarecon.vocabulary import finding_type_rows, finding_types

SCHEMA = """
create table if not exists alerts (
    alert_id integer primary key autoincrement,
    condition_key text not null unique,
    alert_rule text not null,
    entity_key text not null,
    advertiser_id text,
    campaign_id text,
    first_date text,
    last_date text,
    status text not null check (status in ('open', 'acknowledged', 'resolved')),
    alert_level integer not null,
    notified_level integer not null default 0,
    first_seen_at text not null,
    last_seen_at text not null,
    first_seen_run_id text not null,
    resolved_at text,
    acknowledged_at text,
    acknowledged_by text,
    details text not null
);
create table if not exists notifications (
    notification_id integer primary key autoincrement,
    alert_id integer not null references alerts (alert_id),
    event text not null check (event in ('opened', 'escalated', 'resolved')),
    channel text not null,
    extra_recipients text not null,
    created_at text not null,
    created_run_id text not null,
    status text not null check (status in ('pending', 'sent')),
    attempts integer not null default 0,
    last_error text,
    sent_at text
);
create index if not exists notifications_pending on notifications (status);
"""

# Rules whose conditions come from the run, not the warehouse.
RUN_RULES = ("nightly_failed", "nightly_late", "source_stale")
DROP_RULES = ("delivery_drop", "advertiser_delivery_drop", "seller_delivery_drop", "email_deliverability_drop")
MONITORING_RULES = (*DROP_RULES, "email_bounce_rise", "invoice_payment_due")

LABELS_FR = {
    "delivery_drop": "Chute de diffusion de la campagne",
    "advertiser_delivery_drop": "Chute de diffusion de l'annonceur",
    "seller_delivery_drop": "Chute de diffusion de la régie",
    "email_deliverability_drop": "Chute de délivrabilité e-mail",
    "email_bounce_rise": "Hausse des rebonds et plaintes e-mail",
    "invoice_payment_due": "Facture à payer sous peu (délai de paiement)",
    "nightly_failed": "Échec du traitement de nuit",
    "nightly_late": "Traitement de nuit non terminé à l'heure",
    "source_stale": "Source sans nouvelles données",
}
ENTITY_FR = {
    "delivery_drop": "campagne", "advertiser_delivery_drop": "annonceur", "seller_delivery_drop": "régie",
    "email_deliverability_drop": "campagne|domaine FAI", "email_bounce_rise": "campagne|domaine FAI",
    "invoice_payment_due": "fournisseur|facture", "nightly_failed": "traitement", "nightly_late": "traitement du", "source_stale": "source",
}
UNIT_FR = {"ad_server": "impressions", "email": "e-mails délivrés"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Condition:
    """One condition as the mart (or the run) states it."""

    condition_key: str
    alert_rule: str
    entity_key: str
    advertiser_id: str | None
    campaign_id: str | None
    first_date: str | None
    last_date: str | None
    is_ongoing: bool
    alert_level: int
    details: dict


class AlertStore:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con, con:
            con.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        con.execute("pragma journal_mode = wal")
        con.execute("pragma synchronous = full")  # an alert recorded as sent must survive a crash
        return con

    def alerts(self, status: str | None = None, rule: str | None = None) -> list[sqlite3.Row]:
        sql, args = "select * from alerts where 1 = 1", []
        if status:
            sql, args = sql + " and status = ?", args + [status]
        if rule:
            sql, args = sql + " and alert_rule = ?", args + [rule]
        with closing(self._connect()) as con:
            return con.execute(sql + " order by alert_id", args).fetchall()

    def alert(self, alert_id: int) -> sqlite3.Row | None:
        with closing(self._connect()) as con:
            return con.execute("select * from alerts where alert_id = ?", [alert_id]).fetchone()

    def notifications(self, alert_id: int | None = None, status: str | None = None) -> list[sqlite3.Row]:
        sql, args = "select * from notifications where 1 = 1", []
        if alert_id is not None:
            sql, args = sql + " and alert_id = ?", args + [alert_id]
        if status:
            sql, args = sql + " and status = ?", args + [status]
        with closing(self._connect()) as con:
            return con.execute(sql + " order by notification_id", args).fetchall()

    def acknowledge(self, alert_id: int, by: str, now: dt.datetime) -> sqlite3.Row:
        with closing(self._connect()) as con, con:
            row = con.execute("select * from alerts where alert_id = ?", [alert_id]).fetchone()
            if row is None:
                raise KeyError(alert_id)
            if row["status"] == "open":
                con.execute("update alerts set status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?"
                            " where alert_id = ?", [now.isoformat(), by, alert_id])
        return self.alert(alert_id)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, conditions: list[Condition], rules_in_scope: set[str], route, run_id: str,
                 now: dt.datetime) -> dict[str, int]:
        """Bring the store in line with the conditions of this run; queue what must be said.

        rules_in_scope: the rules these conditions cover; an open alert of such a rule whose condition
        is gone is resolved (a finding corrected, a source that woke up). route(alert) -> {channel:
        extra e-mails}. Same conditions twice -> nothing queued the second time.
        """
        counts = {"opened": 0, "escalated": 0, "resolved": 0}
        stamp = now.isoformat()
        with closing(self._connect()) as con, con:
            seen = set()
            for c in conditions:
                seen.add(c.condition_key)
                row = con.execute("select * from alerts where condition_key = ?", [c.condition_key]).fetchone()
                details = json.dumps(c.details, ensure_ascii=False, sort_keys=True, default=str)
                if row is None:
                    cur = con.execute(
                        "insert into alerts (condition_key, alert_rule, entity_key, advertiser_id, campaign_id,"
                        " first_date, last_date, status, alert_level, notified_level, first_seen_at, last_seen_at,"
                        " first_seen_run_id, resolved_at, details) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        [c.condition_key, c.alert_rule, c.entity_key, c.advertiser_id, c.campaign_id, c.first_date,
                         c.last_date, "open" if c.is_ongoing else "resolved", c.alert_level, c.alert_level, stamp,
                         stamp, run_id, None if c.is_ongoing else stamp, details])
                    # seen for the first time already over (a backlog, a short drop between two runs):
                    # one message, that says it is over
                    self._queue(con, cur.lastrowid, "opened", route(c), run_id, stamp)
                    counts["opened"] += 1
                    continue
                con.execute("update alerts set last_seen_at = ?, last_date = ?, details = ?, alert_level = ?"
                            " where alert_id = ?", [stamp, c.last_date, details, c.alert_level, row["alert_id"]])
                if row["status"] == "resolved":
                    if c.is_ongoing:  # it came back
                        con.execute("update alerts set status = 'open', resolved_at = null, notified_level = ?"
                                    " where alert_id = ?", [c.alert_level, row["alert_id"]])
                        self._queue(con, row["alert_id"], "opened", route(c), run_id, stamp)
                        counts["opened"] += 1
                    continue
                if c.alert_level > row["notified_level"]:
                    con.execute("update alerts set notified_level = ? where alert_id = ?",
                                [c.alert_level, row["alert_id"]])
                    self._queue(con, row["alert_id"], "escalated", route(c), run_id, stamp)
                    counts["escalated"] += 1
                if not c.is_ongoing:
                    con.execute("update alerts set status = 'resolved', resolved_at = ? where alert_id = ?",
                                [stamp, row["alert_id"]])
                    self._queue(con, row["alert_id"], "resolved", route(c), run_id, stamp)
                    counts["resolved"] += 1
            gone = con.execute(
                f"select * from alerts where status != 'resolved' and alert_rule in"
                f" ({','.join('?' * len(rules_in_scope))})", sorted(rules_in_scope)).fetchall() if rules_in_scope else []
            for row in gone:
                if row["condition_key"] in seen:
                    continue
                con.execute("update alerts set status = 'resolved', resolved_at = ?, last_seen_at = ?"
                            " where alert_id = ?", [stamp, stamp, row["alert_id"]])
                self._queue(con, row["alert_id"], "resolved", route(_as_condition(row)), run_id, stamp)
                counts["resolved"] += 1
        return counts

    @staticmethod
    def _queue(con, alert_id, event, routes: dict[str, tuple[str, ...]], run_id, stamp):
        for channel, emails in routes.items():
            con.execute("insert into notifications (alert_id, event, channel, extra_recipients, created_at,"
                        " created_run_id, status) values (?,?,?,?,?,?,'pending')",
                        [alert_id, event, channel, json.dumps(list(emails)), stamp, run_id])

    def mark(self, notification_id: int, ok: bool, error: str | None, now: dt.datetime) -> None:
        with closing(self._connect()) as con, con:
            con.execute("update notifications set attempts = attempts + 1, status = ?, last_error = ?, sent_at = ?"
                        " where notification_id = ?",
                        ["sent" if ok else "pending", error, now.isoformat() if ok else None, notification_id])


def _as_condition(row: sqlite3.Row) -> Condition:
    return Condition(row["condition_key"], row["alert_rule"], row["entity_key"], row["advertiser_id"],
                     row["campaign_id"], row["first_date"], row["last_date"], False, row["alert_level"],
                     json.loads(row["details"]))


# ---------------------------------------------------------------------- conditions
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
    last = {}
    if manifest_path.exists():
        with closing(sqlite3.connect(manifest_path)) as con:
            last = dict(con.execute("select source, max(received_at) from files group by source").fetchall())
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


# ---------------------------------------------------------------------- messages
def _fr_number(value, decimals=0) -> str:
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def _fr_date(iso: str | None) -> str:
    return dt.date.fromisoformat(iso[:10]).strftime("%d/%m/%Y") if iso else "—"


def label_fr(rule: str) -> str:
    if rule in LABELS_FR:
        return LABELS_FR[rule]
    return finding_type_rows().get(rule, {}).get("label_fr", rule)


def render(alert: sqlite3.Row, event: str, evidence_names: dict[str, str] | None = None,
           chart: Path | None = None) -> tuple[str, str]:
    """French subject and body of one notification."""
    d = json.loads(alert["details"])
    rule, entity = alert["alert_rule"], alert["entity_key"]
    label = label_fr(rule)
    state = {"opened": "", "escalated": "AGGRAVATION — ", "resolved": "RÉSOLUE — "}[event]
    if event == "opened" and alert["status"] == "resolved":
        state = "CONSTATÉE (terminée) — "
    level = "critique" if alert["alert_level"] >= 2 else "avertissement"
    subject = f"[mediarecon] {state}{label} : {entity} (alerte n° {alert['alert_id']})"
    lines = [
        f"{label} — alerte n° {alert['alert_id']} ({level})",
        "",
        f"Règle : {rule}",
        f"Entité ({ENTITY_FR.get(rule, 'clé')}) : {entity}",
    ]
    if alert["advertiser_id"]:
        lines.append(f"Annonceur : {alert['advertiser_id']}")
    if alert["first_date"]:
        lines.append(f"Période : du {_fr_date(alert['first_date'])} au {_fr_date(alert['last_date'])}")
    status_fr = {"open": "en cours", "acknowledged": "en cours (prise en charge)", "resolved": "terminée"}
    lines.append(f"État : {status_fr[alert['status']]} ; vue pour la première fois le "
                 f"{_fr_date(alert['first_seen_at'])} (traitement {alert['first_seen_run_id']})")
    lines.append("")
    if rule in DROP_RULES:
        unit = UNIT_FR["email" if rule == "email_deliverability_drop" else "ad_server"]
        lines.append(f"Volume sur la période : {_fr_number(d['observed_value'])} {unit} pour une ligne de base de "
                     f"{_fr_number(d['baseline_value'])} (jour le plus bas : "
                     f"{_fr_number(d['lowest_share_pct'] or 0, 1)} % de sa ligne de base).")
        lines.append("Ligne de base : médiane du même jour de la semaine sur les semaines précédentes, pauses prévues"
                     " exclues.")
    elif rule == "email_bounce_rise":
        lines.append(f"Taux de rebonds durs + plaintes : jusqu'à {_fr_number(d['observed_value'], 2)} % contre "
                     f"{_fr_number(d['baseline_value'], 2)} % habituellement.")
    elif rule == "invoice_payment_due":
        lines.append(f"Reçue il y a {_fr_number(d['observed_value'])} jours ; délai légal de paiement "
                     f"{_fr_number(d['baseline_value'])} jours : à payer au plus tard le {_fr_date(alert['last_date'])}"
                     " pour éviter les intérêts moratoires.")
    elif rule == "nightly_failed":
        lines.append(f"Le traitement {d.get('run_id')} a échoué : {d.get('error')}")
        lines.append("L'entrepôt publié est resté celui du dernier traitement réussi.")
    elif rule == "nightly_late":
        lines.append(f"À {d.get('deadline')} (heure de Paris), le traitement de nuit du {_fr_date(d.get('night'))}"
                     f" n'était pas terminé : {d.get('state')}.")
        lines.append("Les constats et alertes du matin manquent ; l'entrepôt publié est celui du dernier"
                     " traitement réussi.")
    elif rule == "source_stale":
        if d.get("last_received_at"):
            lines.append(f"Aucun nouveau fichier depuis {d['days_without_data']} jours (dernier reçu le "
                         f"{_fr_date(d['last_received_at'])} ; limite : {d['limit_days']} jours).")
        else:
            lines.append(f"Aucun fichier jamais reçu pour cette source (limite : {d['limit_days']} jours).")
    if d.get("amount_at_stake_eur") not in (None, ""):
        lines.append(f"Montant en jeu : {_fr_number(d['amount_at_stake_eur'], 2)} € HT")
    lines.append("")
    evidence = []
    sha = d.get("evidence_file_sha256")
    if sha:
        name = (evidence_names or {}).get(sha, "")
        where = f", ligne {d['evidence_line']}" if d.get("evidence_line") is not None else ""
        evidence.append(f"fichier reçu {d.get('evidence_source') or ''} {name} (sha256 {sha[:16]}…){where}")
    if chart is not None:
        evidence.append(f"graphique joint, copie {chart}")
    if d.get("finding_id"):
        evidence.append(f"constat {d['finding_id']} dans fct_findings")
    if d.get("report_path"):
        evidence.append(f"rapport {d['report_path']}")
    if evidence:
        lines.append("Preuve : " + " ; ".join(evidence))
    if d.get("series_key"):
        lines.append(f"Vérifier : mediarecon query \"select * from fct_daily_volumes where series_type = "
                     f"'{d['series_type']}' and series_key = '{d['series_key']}' order by volume_date\"")
    elif d.get("finding_id"):
        lines.append(f"Vérifier : mediarecon query \"select * from fct_findings where finding_id = '{d['finding_id']}'\"")
    if event != "resolved":
        lines.append(f"Prendre en charge : mediarecon alerts ack {alert['alert_id']}")
    return subject, "\n".join(lines) + "\n"


def draw_chart(con, details: dict, path: Path, first_date: str, last_date: str) -> Path | None:
    """PNG of the series around the episode with its baseline; drop days in red, pauses in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    start = dt.date.fromisoformat(first_date) - dt.timedelta(days=42)
    end = dt.date.fromisoformat(last_date) + dt.timedelta(days=14)
    rows = con.execute(
        "select volume_date, volume, baseline_volume, is_drop_day, is_paused from fct_daily_volumes"
        " where series_type = ? and series_key = ? and volume_date between ? and ? order by volume_date",
        [details["series_type"], details["series_key"], start, end]).fetchall()
    if not rows:
        return None
    days = [r[0] for r in rows]
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=100)
    ax.plot(days, [r[1] for r in rows], color="#000091", linewidth=1.6, label="volume du jour")
    ax.plot(days, [r[2] if r[2] is not None else float("nan") for r in rows], color="#6a6a6a", linestyle="--",
            linewidth=1.2, label="ligne de base (médiane même jour)")
    half = dt.timedelta(hours=12)
    for r in rows:
        if r[3] or r[4]:
            noon = dt.datetime.combine(r[0], dt.time())
            ax.axvspan(noon - half, noon + half, color="#e1000f" if r[3] else "#bbbbbb", alpha=0.3,
                       label=None)
    if any(r[3] for r in rows):
        ax.plot([], [], color="#e1000f", alpha=0.3, linewidth=8, label="jour de chute")
    if any(r[4] for r in rows):
        ax.plot([], [], color="#bbbbbb", alpha=0.4, linewidth=8, label="pause prévue")
    ax.set_title(f"{details['series_key']} : volume quotidien et ligne de base", fontsize=10)
    ax.yaxis.set_major_formatter(lambda v, _: _fr_number(v))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))
    ax.legend(loc="lower left", fontsize=8)
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


# ---------------------------------------------------------------------- sending
def with_recipients(url: str, emails: tuple[str, ...] | list[str]) -> str:
    """An e-mail channel's URL with the alert's extra recipients added to its `to`."""
    if not emails or not url.lower().startswith(("mailto://", "mailtos://")):
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    to = [v for k, v in query if k == "to"]
    query = [(k, v) for k, v in query if k != "to"]
    query.append(("to", ",".join([t for t in to if t] + list(emails))))
    return urlunsplit(parts._replace(query=urlencode(query, safe="@,")))


def send(url: str, subject: str, body: str, attachment: Path | None) -> str | None:
    """One message through one apprise URL: None when it went, else why not."""
    import apprise

    logs = []
    with apprise.LogCapture(level=apprise.logging.WARNING) as output:
        notifier = apprise.Apprise()
        if not notifier.add(url):
            return "apprise does not understand this URL"
        attach = apprise.AppriseAttachment(str(attachment)) if attachment and attachment.exists() else None
        ok = notifier.notify(title=subject, body=body, attach=attach, body_format=apprise.NotifyFormat.TEXT)
        logs = output.getvalue().strip().splitlines()
    return None if ok else ("; ".join(logs[-2:]) or "the channel refused the message")


# ---------------------------------------------------------------------- the alert step
def store_for(home) -> AlertStore:
    return AlertStore(home.root / "alerts" / "alerts.sqlite")


def _evidence_names(manifest_path: Path) -> dict[str, str]:
    if not manifest_path.exists():
        return {}
    with closing(sqlite3.connect(manifest_path)) as con:
        return {sha: f"{source}/{name}" for source, sha, name in
                con.execute("select source, sha256, original_name from files").fetchall()}


def process_run(home, run_id: str, rules: AlertRules, channels: dict[str, str], reader_limits, *,
                failure: str | None = None, report_path: str | None = None, now: dt.datetime | None = None,
                log=print) -> dict:
    """After a run: update the store from its conditions, then send every pending notification.

    failure: the error of a failed run; then only the nightly_failed alert is raised (the warehouse was
    not rebuilt) and what was pending is retried. reader_limits: the ReaderSettings of the marts' reader."""
    from mediarecon.reader import open_reader

    now = now or utcnow()
    store = store_for(home)

    def route(c: Condition):
        return rules.route(c.advertiser_id, channels)

    counts = {"opened": 0, "escalated": 0, "resolved": 0}

    def add(more):
        for k, v in more.items():
            counts[k] += v

    con = None
    if failure is not None:
        add(store.evaluate([Condition("nightly_failed|nightly_reconciliation", "nightly_failed",
                                      "nightly_reconciliation", None, None, now.date().isoformat(),
                                      now.date().isoformat(), True, 2,
                                      {"run_id": run_id, "error": failure, "report_path": report_path})],
                           set(), route, run_id, now))
    else:
        con = open_reader(home, reader_limits)
        add(store.evaluate(warehouse_conditions(con, rules), set(MONITORING_RULES) | set(finding_types()), route,
                           run_id, now))
        add(store.evaluate(freshness_conditions(home.manifest, rules, now), {"source_stale"}, route, run_id, now))
        # a good run clears a failed or late one
        add(store.evaluate([], {"nightly_failed", "nightly_late"}, route, run_id, now))
    try:
        sent, failed = deliver(store, channels, home, con, now, log)
    finally:
        if con is not None:
            con.close()
    return {**counts, "sent": sent, "failed": failed, "pending": len(store.notifications(status="pending")),
            "open": len(store.alerts(status="open")) + len(store.alerts(status="acknowledged"))}


def deliver(store: AlertStore, channels: dict[str, str], home, con, now: dt.datetime, log=print) -> tuple[int, int]:
    """Send every pending notification; one that fails stays pending for the next run."""
    pending = store.notifications(status="pending")
    if not pending:
        return 0, 0
    names = _evidence_names(home.manifest)
    charts: dict[int, Path | None] = {}
    sent = failed = 0
    for n in pending:
        alert = store.alert(n["alert_id"])
        chart = None
        if alert["alert_rule"] in DROP_RULES:
            if alert["alert_id"] not in charts:
                path = home.root / "alerts" / "charts" / f"alert-{alert['alert_id']}.png"
                details = json.loads(alert["details"])
                if con is not None and details.get("series_key"):
                    charts[alert["alert_id"]] = draw_chart(con, details, path, alert["first_date"], alert["last_date"])
                else:
                    charts[alert["alert_id"]] = path if path.exists() else None
            chart = charts[alert["alert_id"]]
        subject, body = render(alert, n["event"], names, chart)
        url = channels.get(n["channel"])
        error = (send(with_recipients(url, json.loads(n["extra_recipients"])), subject, body, chart) if url
                 else f"channel {n['channel']!r} is no longer in MEDIARECON_ALERT_URLS")
        store.mark(n["notification_id"], error is None, error, now)
        if error is None:
            sent += 1
        else:
            failed += 1
            log(f"alert {alert['alert_id']} ({n['event']}) not sent to {n['channel']}: {error}; retried next run")
    return sent, failed


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


def process_deadline(home, runs: list[dict], rules: AlertRules, channels: dict[str, str], *,
                     now: dt.datetime | None = None, deadline: str = "06:00", log=print) -> dict:
    """The morning check: alert (once) when tonight's run is missing or still running."""
    now = now or utcnow()
    store = store_for(home)

    def route(c: Condition):
        return rules.route(c.advertiser_id, channels)

    counts = store.evaluate(deadline_conditions(runs, now, deadline), set(), route, "deadline-check", now)
    sent, failed = deliver(store, channels, home, None, now, log)
    return {**counts, "sent": sent, "failed": failed}
