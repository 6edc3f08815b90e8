"""The 06:00 check: was tonight's reconciliation done in time? If not (still running, or never started),
the people on call get an alert; a failed run has alerted already."""

from __future__ import annotations

from prefect import flow, get_run_logger

from mediarecon.alerts.process import process_deadline
from mediarecon.alerts.rules import channels_of, rules_of
from mediarecon.settings import Settings
from mediarecon.state.runs import list_runs


@flow(name="nightly_deadline_check", log_prints=True)
def nightly_deadline_check(home: str | None = None, deadline: str = "06:00") -> dict:
    """Alert when no nightly run has succeeded or failed since midnight (Europe/Paris) by `deadline`."""
    settings = Settings.from_env(home)
    result = process_deadline(settings.home, list_runs(settings.home, limit=20), rules_of(settings),
                              channels_of(settings), deadline=deadline, log=get_run_logger().warning)
    get_run_logger().info("deadline check: %(opened)d alert(s) opened, %(sent)d message(s) sent", result)
    return result
