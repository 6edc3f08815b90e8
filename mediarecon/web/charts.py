"""Charts drawn on the server as SVG: no script, nothing fetched, readable without JavaScript."""

from __future__ import annotations

from html import escape

from mediarecon import french

WIDTH, HEIGHT = 920, 300
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 20, 50
SHORT_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


def _ticks(top: float) -> list[float]:
    if top <= 0:
        return [0.0]
    step = 10 ** (len(str(int(top))) - 1)
    for m in (1, 2, 5, 10):
        if top / (step * m) <= 5:
            step *= m
            break
    return [i * step for i in range(int(top // step) + 1)]


def delivery_chart(days: list[dict], unit: str) -> str:
    """Daily delivered against planned volume: `days` are {volume_date, volume, planned, is_paused,
    is_drop_day}, in date order. Paused days are shaded, drop days marked in red."""
    if not days:
        return '<p class="empty">Aucune diffusion quotidienne suivie pour cette campagne.</p>'
    n = len(days)
    top = max(max((d["volume"] or 0) for d in days), max((d["planned"] or 0) for d in days)) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x = lambda i: LEFT + (i + 0.5) * plot_w / n
    y = lambda v: TOP + plot_h * (1 - (v or 0) / top)
    day_w = plot_w / n
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart"'
           f' aria-label="Diffusion quotidienne, livré et prévu, en {escape(unit)}">']
    for i, d in enumerate(days):
        if d["is_paused"]:
            out.append(f'<rect class="paused" x="{LEFT + i * day_w:.1f}" y="{TOP}" width="{day_w:.1f}" height="{plot_h}">'
                       f'<title>{french.date(d["volume_date"])} : pause prévue</title></rect>')
    for t in _ticks(top):
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
                   f'<text class="tick" x="{LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{french.number(t)}</text>')
    labelled = -1e9
    for i, d in enumerate(days):
        day = d["volume_date"]
        if (day.day == 1 or i == 0) and x(i) - labelled >= 60:  # a month label, never over the previous one
            labelled = x(i)
            out.append(f'<line class="axis" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 5}"/>'
                       f'<text class="tick" x="{x(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
                       f'{SHORT_MONTHS[day.month - 1]} {day.year}</text>')
    planned = " ".join(f"{x(i):.1f},{y(d['planned']):.1f}" for i, d in enumerate(days) if d["planned"] is not None)
    if planned:
        out.append(f'<polyline class="planned" points="{planned}"/>')
    delivered = " ".join(f"{x(i):.1f},{y(d['volume']):.1f}" for i, d in enumerate(days))
    out.append(f'<polyline class="delivered" points="{delivered}"/>')
    for i, d in enumerate(days):
        if d["is_drop_day"]:
            out.append(f'<circle class="drop" cx="{x(i):.1f}" cy="{y(d["volume"]):.1f}" r="4">'
                       f'<title>{french.date(d["volume_date"])} : chute, {french.number(d["volume"])} {escape(unit)}'
                       '</title></circle>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
               f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}"/>'
               f'<text class="unit" x="{LEFT - 70}" y="{TOP - 6}">{escape(unit)} / jour</text>')
    legend_y = HEIGHT - 10
    out.append(f'<g class="legend"><line class="delivered" x1="{LEFT}" x2="{LEFT + 24}" y1="{legend_y - 4}" '
               f'y2="{legend_y - 4}"/><text x="{LEFT + 30}" y="{legend_y}">livré</text>'
               f'<line class="planned" x1="{LEFT + 90}" x2="{LEFT + 114}" y1="{legend_y - 4}" y2="{legend_y - 4}"/>'
               f'<text x="{LEFT + 120}" y="{legend_y}">prévu (commande répartie sur la période)</text>'
               f'<rect class="paused" x="{LEFT + 420}" y="{legend_y - 10}" width="14" height="10"/>'
               f'<text x="{LEFT + 440}" y="{legend_y}">pause prévue</text>'
               f'<circle class="drop" cx="{LEFT + 560}" cy="{legend_y - 4}" r="4"/>'
               f'<text x="{LEFT + 570}" y="{legend_y}">chute détectée</text></g>')
    out.append("</svg>")
    return "".join(out)
