"""The morning alert step: conditions -> alert store -> notifications, after a run and at the deadline."""

from __future__ import annotations

import datetime as dt

from mediarecon.alerts.conditions import (MONITORING_RULES, deadline_conditions, freshness_conditions,
                                          unavailable_conditions, warehouse_conditions)
from mediarecon.alerts.rules import AlertRules
from mediarecon.alerts.sending import deliver
from mediarecon.alerts.store import Condition, store_for, utcnow
from mediarecon.vocabulary import finding_types

def process_run(home, run_id: str, rules: AlertRules, channels: dict[str, str], reader_limits, *,
                failure: str | None = None, report_path: str | None = None, now: dt.datetime | None = None,
                unavailable: dict[str, str] | None = None, log=print) -> dict:
    """After a run: update the store from its conditions, then send every pending notification.

    failure: the error of a failed run; then only the nightly_failed alert is raised (the warehouse was
    not rebuilt) and what was pending is retried. reader_limits: the ReaderSettings of the marts' reader."""
    from mediarecon.warehouse.reader import open_reader

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
        # a source this run could not reach; one reached again clears its alert
        add(store.evaluate(unavailable_conditions(unavailable or {}, now), {"source_unavailable"}, route, run_id,
                           now))
        # a good run clears a failed or late one
        add(store.evaluate([], {"nightly_failed", "nightly_late"}, route, run_id, now))
    try:
        sent, failed = deliver(store, channels, home, con, now, log)
    finally:
        if con is not None:
            con.close()
    return {**counts, "sent": sent, "failed": failed, "pending": len(store.notifications(status="pending")),
            "open": len(store.alerts(status="open")) + len(store.alerts(status="acknowledged"))}


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
