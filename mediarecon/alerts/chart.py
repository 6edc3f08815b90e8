"""The chart attached to a drop alert."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mediarecon import french
from mediarecon.alerts.messages import UNIT_FR
from mediarecon.paths import read_seed


def series_title(con, details: dict) -> str:
    """What the series is, by name: the campaign's name (and the ISP of an e-mail series), the advertiser's
    or the media seller's; its key when the warehouse does not name it."""
    kind, key = details["series_type"], details["series_key"]
    if kind in ("campaign", "campaign_isp"):
        campaign, _, isp = key.partition("|")
        row = con.execute("select max(campaign_name) from fct_order_line_delivery where campaign_id = ?",
                          [campaign]).fetchone()
        name = f"{row[0]} ({campaign})" if row and row[0] else campaign
        return f"{name} — {isp}" if isp else name
    seed, column = ("advertisers", "advertiser") if kind == "advertiser" else ("media_sellers", "media_seller")
    names = {r[f"{column}_id"]: r[f"{column}_name"] for r in read_seed(seed)}
    return names.get(key, key)


def axis_labels(channel: str) -> tuple[str, str]:
    """(x, y) axis labels: the day, and the unit counted (impressions, e-mails delivered)."""
    return "jour (jj/mm/aaaa)", f"{UNIT_FR[channel]} par jour"


def draw_chart(con, details: dict, path: Path, first_date: str, last_date: str) -> Path | None:
    """PNG of the series around the episode with its baseline; drop days in red, pauses in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    start = dt.date.fromisoformat(first_date) - dt.timedelta(days=42)
    end = dt.date.fromisoformat(last_date) + dt.timedelta(days=14)
    rows = con.execute(
        "select volume_date, volume, baseline_volume, is_drop_day, is_paused, channel from fct_daily_volumes"
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
    ax.set_title(f"{series_title(con, details)} : volume quotidien et ligne de base", fontsize=10)
    x_label, y_label = axis_labels(rows[0][5])
    ax.set_xlabel(x_label, fontsize=8)
    ax.set_ylabel(y_label, fontsize=8)
    ax.yaxis.set_major_formatter(lambda v, _: french.number(v))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m/%Y"))
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


