"""Sending: apprise channels, extra e-mail recipients, and the delivery of pending notifications."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mediarecon.alerts.chart import draw_chart
from mediarecon.alerts.conditions import DROP_RULES
from mediarecon.alerts.messages import notify_type, render
from mediarecon.alerts.store import AlertStore
from mediarecon.state.manifest import Manifest

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


def send(url: str, subject: str, body: str, attachment: Path | None, kind: str = "info") -> str | None:
    """One message through one apprise URL, of apprise's type `kind` (info, success, warning, failure):
    None when it went, else why not."""
    import apprise

    logs = []
    with apprise.LogCapture(level=apprise.logging.WARNING) as output:
        notifier = apprise.Apprise()
        if not notifier.add(url):
            return "apprise does not understand this URL"
        attach = apprise.AppriseAttachment(str(attachment)) if attachment and attachment.exists() else None
        ok = notifier.notify(title=subject, body=body, attach=attach, body_format=apprise.NotifyFormat.TEXT,
                             notify_type=apprise.NotifyType(kind))
        logs = output.getvalue().strip().splitlines()
    return None if ok else ("; ".join(logs[-2:]) or "the channel refused the message")


def deliver(store: AlertStore, channels: dict[str, str], home, con, now: dt.datetime, log=print) -> tuple[int, int]:
    """Send every pending notification; one that fails stays pending for the next run."""
    pending = store.notifications(status="pending")
    if not pending:
        return 0, 0
    names = Manifest(home.manifest).evidence_names() if home.manifest.exists() else {}
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
        error = (send(with_recipients(url, json.loads(n["extra_recipients"])), subject, body, chart,
                      notify_type(alert, n["event"])) if url
                 else f"channel {n['channel']!r} is no longer in MEDIARECON_ALERT_URLS")
        store.mark(n["notification_id"], error is None, error, now)
        if error is None:
            sent += 1
        else:
            failed += 1
            log(f"alert {alert['alert_id']} ({n['event']}) not sent to {n['channel']}: {error}; retried next run")
    return sent, failed


