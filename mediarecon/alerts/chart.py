"""The chart attached to a drop alert."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mediarecon.alerts.messages import fr_number

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
    ax.yaxis.set_major_formatter(lambda v, _: fr_number(v))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))
    ax.legend(loc="lower left", fontsize=8)
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


