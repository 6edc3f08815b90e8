"""The commands of the people on call: list, show and acknowledge alerts, check the rules."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal, Optional

import typer

from mediarecon.cli.common import CONTEXT, ExitCode, HomeOption, fail, load_settings, render_table, app


alerts_app = typer.Typer(
    context_settings=CONTEXT,
    help="The alerts for the people on call: list, show, acknowledge (store: <home>/alerts/).")


app.add_typer(alerts_app, name="alerts")
def _alert_store(home: Optional[Path]):
    from mediarecon.alerts.store import store_for

    settings = load_settings(home)
    path = settings.home.root / "alerts" / "alerts.sqlite"
    if not path.exists():
        fail(f"no alert store at {path}: run `mediarecon run --home {settings.home.root}` first", ExitCode.NOTHING_YET)
    return store_for(settings.home)


def _alert_or_exit(store, alert_id: int):
    row = store.alert(alert_id)
    if row is None:
        fail(f"no alert n° {alert_id} (see `mediarecon alerts list --all`)", ExitCode.USAGE)
    return row


@alerts_app.command("list")
def alerts_list(
    home: Optional[Path] = HomeOption,
    all_: bool = typer.Option(False, "--all", help="Also resolved alerts (default: open and acknowledged)."),
    rule: Optional[str] = typer.Option(None, "--rule", help="Only this rule, e.g. delivery_drop."),
    format: Literal["table", "json"] = typer.Option("table", "--format", help="The output."),
):
    """Alerts, newest last: id, rule, entity, period, status, level, and what is still to be sent."""
    store = _alert_store(home)
    rows = [r for r in store.alerts(rule=rule) if all_ or r["status"] != "resolved"]
    pending = {}
    for n in store.notifications(status="pending"):
        pending[n["alert_id"]] = pending.get(n["alert_id"], 0) + 1
    cols = ["alert_id", "alert_rule", "entity_key", "advertiser_id", "first_date", "last_date", "status",
            "alert_level", "first_seen_at"]
    if format == "json":
        typer.echo(json.dumps([{**{c: r[c] for c in cols}, "pending_notifications": pending.get(r["alert_id"], 0)}
                               for r in rows], ensure_ascii=False, indent=1))
        return
    typer.echo(render_table(cols + ["pending"], [[r[c] for c in cols] + [pending.get(r["alert_id"], 0)] for r in rows]))


@alerts_app.command("show")
def alerts_show(alert_id: int = typer.Argument(..., help="The alert number (alerts list)."),
                home: Optional[Path] = HomeOption):
    """One alert as its message reads, with every notification and its delivery state."""
    from mediarecon.alerts.messages import render
    from mediarecon.state.manifest import Manifest

    store = _alert_store(home)
    row = _alert_or_exit(store, alert_id)
    chart = store.path.parent / "charts" / f"alert-{alert_id}.png"
    manifest = load_settings(home).home.manifest
    subject, body = render(row, "opened", Manifest(manifest).evidence_names() if manifest.exists() else {},
                           chart if chart.exists() else None)
    typer.echo(subject)
    typer.echo(body)
    if row["acknowledged_at"]:
        typer.echo(f"Pris en charge le {row['acknowledged_at']} par {row['acknowledged_by']}")
    typer.echo("notifications:")
    for n in store.notifications(alert_id=alert_id):
        extra = json.loads(n["extra_recipients"])
        typer.echo(f"  {n['created_at']}  {n['event']:<9} -> {n['channel']:<12} {n['status']:<7}"
                   f" attempts {n['attempts']}" + (f"  +{', '.join(extra)}" if extra else "")
                   + (f"  last error: {n['last_error']}" if n["status"] == "pending" and n["last_error"] else ""))


@alerts_app.command("ack")
def alerts_ack(alert_id: int = typer.Argument(..., help="The alert number (alerts list)."),
               by: str = typer.Option(os.environ.get("USER", "unknown"), "--by", help="Who takes it in charge."),
               home: Optional[Path] = HomeOption):
    """Take an alert in charge: it stays listed until it clears, and a rise or the resolution is still sent."""
    from mediarecon.alerts.store import utcnow

    store = _alert_store(home)
    row = _alert_or_exit(store, alert_id)
    if row["status"] == "resolved":
        typer.echo(f"alert n° {alert_id} is already resolved ({row['resolved_at']}): nothing to acknowledge")
        return
    row = store.acknowledge(alert_id, by, utcnow())
    typer.echo(f"alert n° {alert_id} acknowledged by {row['acknowledged_by']} at {row['acknowledged_at']}")


@alerts_app.command("check-rules")
def alerts_check_rules(home: Optional[Path] = HomeOption):
    """Check the alert rules file and the channels of MEDIARECON_ALERT_URLS, without running anything."""
    from mediarecon.alerts.rules import AlertRulesError, channels_of, rules_of

    settings = load_settings(home)
    try:
        rules = rules_of(settings)
        channels = channels_of(settings)
    except AlertRulesError as e:
        fail(str(e), ExitCode.USAGE)
    typer.echo(f"rules: {rules.path} (valid)")
    typer.echo(f"channels: {', '.join(channels) if channels else 'none (MEDIARECON_ALERT_URLS is empty: alerts are kept, not sent)'}")
