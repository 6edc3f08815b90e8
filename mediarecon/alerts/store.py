"""The alert store: its own SQLite file under <home>/alerts/, never rebuilt. An alert is notified when it
opens, again only when its level rises, and once more when it clears; a notification a channel could not
take stays pending for the next run, and nothing is sent twice for the same state."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

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




def store_for(home) -> AlertStore:
    return AlertStore(home.root / "alerts" / "alerts.sqlite")
