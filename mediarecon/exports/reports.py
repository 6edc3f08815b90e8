"""Reports the agency owes, exported from the published warehouse for people: formatted XLSX (title,
frozen header, euro formats, totals row) or French CSV (`;`, decimal comma, UTF-8 with BOM for Excel).
Column labels are French, as the contract requires French documents."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import textwrap
import typing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from mediarecon import __version__, french
from mediarecon.warehouse.reader import Origin


class ReportError(ValueError):
    """A report asked for something that cannot be produced (bad month, unknown advertiser)."""


@dataclass(frozen=True)
class Column:
    name: str  # in the mart
    label: str  # in the export
    kind: str = "text"  # text, date, int, eur, dec (a number with up to 4 decimals)


# CCAP 11.2.5: the fifteen items of the monthly execution statement, in the CCAP's order.
MONTHLY_STATEMENT = [
    Column("ordonnateur_level_1", "Ordonnateur niveau 1"),
    Column("ordonnateur_level_2", "Ordonnateur niveau 2"),
    Column("purchase_order_id", "Référence de la commande"),
    Column("order_date", "Date de la commande", "date"),
    Column("order_object", "Objet de la commande ou nom de la campagne"),
    Column("ordered_uo", "UO commandées"),
    Column("ordered_quantity", "Quantités commandées", "int"),
    Column("media_ordered_ttc_eur", "Montant TTC achat d'espace commandé", "eur"),
    Column("fees_received_ttc_eur", "Montant TTC honoraires perçus", "eur"),
    Column("price_to_pay_ttc_eur", "Prix TTC à payer", "eur"),
    Column("reduction_deducted_eur", "Montant réfaction déduit", "eur"),
    Column("late_penalties_eur", "Pénalités pour retard appliquées", "eur"),
    Column("other_penalties_eur", "Autres pénalités appliquées", "eur"),
    Column("penalties_deducted_eur", "Montant des pénalités déduit", "eur"),
    Column("reductions_applied", "Réfactions appliquées"),
]


# Results against objectives (fct_campaign_objectives) of the order lines ending in the month: the
# statement's second sheet, and the dashboard's campaign and statement pages.
INDICATOR_FR = {"volume_min": "Volume minimum", "cpm_max": "CPM maximum (€)", "cpc_max": "CPC maximum (€)",
                "cpa_max": "CPA maximum (€)", "ctr_min": "CTR minimum (%)",
                "completion_rate_min": "Taux de complétion minimum (%)"}
STATUS_FR = {"met": "atteint", "missed": "manqué", "not_measurable": "non mesurable"}
CAUSE_FR = {"delivery_drop": "chute de diffusion", "planned_pause": "pause prévue", "under_delivery": "sous-diffusion",
            "cpc_change": "changement de CPC"}
ATTRIBUTION_FR = {"last_click": "dernier clic", "post_impression": "post-impression"}
MONTHLY_OBJECTIVES = [
    Column("campaign_id", "Campagne"),
    Column("order_line_id", "Ligne de commande"),
    Column("media_type", "Média"),
    Column("end_date", "Fin de la ligne", "date"),
    Column("indicator", "Indicateur"),
    Column("attribution_model", "Modèle d'attribution"),
    Column("objective_value", "Objectif", "dec"),
    Column("achieved_value", "Atteint", "dec"),
    Column("deviation_pct", "Écart (%)", "dec"),
    Column("deviation_eur", "Écart (€)", "eur"),
    Column("status", "Statut"),
    Column("likely_cause", "Cause probable"),
]
LABELS = {"indicator": INDICATOR_FR, "status": STATUS_FR, "likely_cause": CAUSE_FR, "attribution_model": ATTRIBUTION_FR}


def objectives_sql(relation: str) -> str:
    """The objectives of the order lines ending in month $m, from `relation` (fct_campaign_objectives, or
    the dashboard's scoped {objectives})."""
    return (f"select {', '.join(c.name for c in MONTHLY_OBJECTIVES)} from {relation}"
            " where end_date >= $m and end_date < $m + interval 1 month"
            " order by campaign_id, order_line_id, indicator")


def labelled(rows: list[dict]) -> list[tuple]:
    """Objective rows as the sheet shows them: French labels for the codes."""
    return [tuple(LABELS[c.name].get(r[c.name], r[c.name]) if c.name in LABELS else r[c.name]
                  for c in MONTHLY_OBJECTIVES) for r in rows]


def monthly_objectives(con: duckdb.DuckDBPyConnection, month: str, advertiser: str | None) -> list[tuple]:
    """The statement's second sheet: results against objectives of the lines ending in `month`."""
    sql = objectives_sql("fct_campaign_objectives")
    if advertiser:
        sql = sql.replace(" order by", " and advertiser_id = $a order by")
    cur = con.execute(sql, {"m": statement_month(month), **({"a": advertiser} if advertiser else {})})
    names = [d[0] for d in cur.description]
    return labelled([dict(zip(names, r)) for r in cur.fetchall()])


OBJECTIVES_TITLE = "Résultats par rapport aux objectifs des lignes terminées dans le mois"


MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def statement_month(month: str) -> dt.date:
    """The first day of `month` (YYYY-MM); ReportError otherwise."""
    if not MONTH.fullmatch(month):
        raise ReportError(f"--month {month!r} is not YYYY-MM")
    return dt.date(int(month[:4]), int(month[5:]), 1)


def statement_title(first: dt.date, advertiser_name: str | None) -> str:
    scope = f"annonceur {advertiser_name}" if advertiser_name else "ensemble des entités utilisatrices"
    return f"État récapitulatif d'exécution — {first:%m/%Y} — {scope}"


def statement_file_name(month: str, advertiser: str | None, format: str) -> str:
    return f"etat_execution_{month}_{advertiser or 'global'}.{format}"


def monthly_statement(con: duckdb.DuckDBPyConnection, month: str, advertiser: str | None) -> tuple[str, list[tuple]]:
    """The statement's title and rows for `month` (YYYY-MM), global or for one advertiser."""
    first = statement_month(month)
    if advertiser:
        known = con.execute("select advertiser_name from reference.advertisers where advertiser_id = ?",
                            [advertiser]).fetchone()
        if not known:
            raise ReportError(f"--advertiser {advertiser!r} is not a known advertiser id (see the advertisers seed)")
    sql = (f"select {', '.join(c.name for c in MONTHLY_STATEMENT)} from rpt_monthly_execution_statement"
           " where statement_month = ?" + (" and advertiser_id = ?" if advertiser else ""))
    rows = con.execute(sql, [first, advertiser] if advertiser else [first]).fetchall()
    return statement_title(first, known[0] if advertiser else None), statement_sorted(rows)


def _totals(columns: list[Column], rows: list[tuple]) -> list:
    out = []
    for i, c in enumerate(columns):
        if c.kind == "eur":
            values = [r[i] for r in rows if r[i] is not None]
            # an amount nobody computed yet stays empty; no order at all totals 0
            out.append(sum(values, Decimal("0.00")) if values or not rows else None)
        else:
            out.append("Total" if i == 0 else None)
    return out


def statement_sorted(rows: list[tuple]) -> list[tuple]:
    """The statement's order, wherever it is shown: ordonnateur in French dictionary order (accents and
    case folded: "Défenseur des droits" before "Direction…"), then order date and order id."""
    i, d, o = (next(n for n, c in enumerate(MONTHLY_STATEMENT) if c.name == name)
               for name in ("ordonnateur_level_1", "order_date", "purchase_order_id"))
    return sorted(rows, key=lambda r: (french.collation_key(r[i]), r[d] or dt.date.min, r[o] or ""))


def provenance_lines(origin: Origin, generated_at: dt.datetime, first: dt.date | None = None) -> list[str]:
    """The header block of a printed report: what it covers and the warehouse it was computed from, so
    that a page can be checked against its source."""
    lines = []
    if first is not None:
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        lines.append(f"Période : du {first:%d/%m/%Y} au {last:%d/%m/%Y}")
    lines += [
        "Données arrêtées au : " + (french.date(origin.as_of_date) if origin.as_of_date else "non enregistré"),
        "Exécution ayant construit l'entrepôt : " + (origin.run_id or "non enregistrée"),
        f"Généré le : {french.date(generated_at)} (heure de Paris), par mediarecon {__version__}",
        f"Entrepôt source (SHA-256) : {origin.sha256}",
    ]
    return lines


def write_statement_xlsx(path: "Path | typing.BinaryIO", title: str, first: dt.date, rows: list[tuple],
                         objectives: list[tuple], origin: Origin) -> None:
    """The monthly statement's workbook: "État" with a subtotal per ordonnateur and a total, then
    "Objectifs"; both with the header block."""
    header = provenance_lines(origin, dt.datetime.now(dt.timezone.utc).replace(microsecond=0), first)
    write_xlsx(path, title, MONTHLY_STATEMENT, statement_sorted(rows), header=header, group_by="ordonnateur_level_1",
               more_sheets=(("Objectifs", OBJECTIVES_TITLE, MONTHLY_OBJECTIVES, objectives),))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_FORMATS = {"eur": '#,##0.00 "€"', "date": "DD/MM/YYYY", "int": "#,##0", "dec": "#,##0.00##"}
MAX_WIDTH = 40  # characters; longer text wraps, so that fit-to-width keeps a readable print
LINE_HEIGHT = 15  # points, a line of 11-point text


def write_xlsx(path: "Path | typing.BinaryIO", title: str, columns: list[Column], rows: list[tuple], totals: bool = True,
               more_sheets: tuple[tuple[str, str, list[Column], list[tuple]], ...] = (), header: list[str] = (),
               group_by: str | None = None) -> None:
    """A workbook to print and check: the first sheet "État" (title, the `header` block, then the table
    with a `SUM` subtotal per value of `group_by` and a `SUM` total row), and each of `more_sheets` (sheet
    name, title, columns, rows) laid out the same way, with no totals. Every sheet prints on A4
    landscape, fit to the page's width, its header row repeated on each page."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.creator = wb.properties.lastModifiedBy = "mediarecon"
    wb.properties.title = title
    _sheet(wb.active, "État", title, columns, rows, header, totals, group_by)
    for name, sheet_title, sheet_columns, sheet_rows in more_sheets:
        _sheet(wb.create_sheet(), name, sheet_title, sheet_columns, sheet_rows, header, False, None)
    wb.save(path)


def _sum(letter: str, cells: list[int]) -> str:
    """=SUM over `cells` (row numbers, contiguous ones as ranges); Excel takes at most 255 arguments."""
    runs: list[list[int]] = []
    for n in cells:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    parts = [f"{letter}{a}:{letter}{b}" if a != b else f"{letter}{a}" for a, b in runs]
    while len(parts) > 255:
        parts = [f"SUM({','.join(parts[i:i + 255])})" for i in range(0, len(parts), 255)]
    return f"=SUM({','.join(parts)})"


def _shown(value, kind: str) -> str:
    """A cell's text as a spreadsheet shows it, to size its column."""
    if value is None:
        return ""
    if kind == "date" and isinstance(value, dt.date):
        return "00/00/0000"
    if kind in ("eur", "int", "dec") and isinstance(value, (int, float, Decimal)):
        return f"{value:,.2f} €" if kind == "eur" else f"{value:,.4f}" if kind == "dec" else f"{value:,}"
    return str(value)


def _sheet(ws, name: str, title: str, columns: list[Column], rows: list[tuple], header: list[str], totals: bool,
           group_by: str | None) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    ws.title = name
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    for line in header:
        ws.append([line])
    ws.append([])
    ws.append([c.label for c in columns])
    head = ws.max_row
    for cell in ws[head]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    letters = [get_column_letter(i) for i in range(1, len(columns) + 1)]
    amounts = [i for i, c in enumerate(columns) if c.kind == "eur"]
    bold_rows = []
    g = next((i for i, c in enumerate(columns) if c.name == group_by), None)
    label = 1 if g == 0 else 0  # the column that says "Sous-total"
    for key, group in (itertools.groupby(rows, key=lambda r: r[g]) if g is not None else [(None, rows)]):
        group = list(group)
        start = ws.max_row + 1
        for r in group:
            ws.append([float(v) if isinstance(v, Decimal) else v for v in r])
            for cell in ws[ws.max_row]:
                # a sender's text that looks like a formula (=, +, -, @) stays text: never evaluated by Excel
                if isinstance(cell.value, str) and cell.value[:1] in FORMULA_STARTS:
                    cell.data_type = "s"
        if g is not None:
            line = [None] * len(columns)
            line[g], line[label] = key, "Sous-total"
            for i in amounts:  # a column nobody computed yet in the group stays empty
                if any(r[i] is not None for r in group):
                    line[i] = _sum(letters[i], list(range(start, start + len(group))))
            ws.append(line)
            ws.cell(row=ws.max_row, column=g + 1).data_type = "s"
            bold_rows.append(ws.max_row)
    last = ws.max_row
    ws.freeze_panes = f"A{head + 1}"  # title, header block and column names stay visible
    ws.auto_filter.ref = f"A{head}:{letters[-1]}{max(last, head)}"
    if totals:
        line = ["Total"] + [None] * (len(columns) - 1)
        for i in amounts:
            if not rows:
                line[i] = 0  # no order at all totals 0
            elif any(r[i] is not None for r in rows):
                line[i] = _sum(letters[i], bold_rows if g is not None else list(range(head + 1, last + 1)))
        ws.append(line)
        bold_rows.append(ws.max_row)
    for n in bold_rows:
        for cell in ws[n]:
            cell.font = Font(bold=True)
    for i, c in enumerate(columns):
        shown = [len(_shown(r[i], c.kind)) for r in rows] + [len("Sous-total") if g is not None and i == label else 0]
        longest_word = max(len(w) for w in c.label.split())
        ws.column_dimensions[letters[i]].width = min(MAX_WIDTH, max(8, longest_word + 2, max(shown) + 2))
        fmt = NUMBER_FORMATS.get(c.kind)
        for (cell,) in ws.iter_rows(min_row=head + 1, min_col=i + 1, max_col=i + 1):
            if fmt:
                cell.number_format = fmt
            elif isinstance(cell.value, str) and len(cell.value) > MAX_WIDTH - 2:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    # LibreOffice and Excel keep the default height of a row whose text wraps: its height is set here, from
    # the lines its longest cell takes (a column holds about 1.2 average letters per unit of width, 1 in bold)
    for n in range(head, ws.max_row + 1):
        per_unit = 1.0 if n == head else 1.2
        lines = max((len(textwrap.wrap(cell.value, int(ws.column_dimensions[cell.column_letter].width * per_unit)))
                     for cell in ws[n] if isinstance(cell.value, str) and cell.alignment.wrap_text), default=1)
        if lines > 1:
            ws.row_dimensions[n].height = LINE_HEIGHT * lines
        for cell in ws[n]:
            if not cell.alignment.wrap_text:  # a row's cells start on its first line
                cell.alignment = Alignment(vertical="top")
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0  # as many pages down as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{head}:{head}"
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.oddFooter.left.text = title.replace("&", "&&")
    ws.oddFooter.right.text = "Page &P / &N"


def _french(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "date":
        return value.strftime("%d/%m/%Y")
    if kind == "eur":
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def write_french_csv(path: Path, columns: list[Column], rows: list[tuple]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([c.label for c in columns])
    for r in [*rows, _totals(columns, rows)]:
        w.writerow([_french(v, c.kind) for v, c in zip(r, columns)])
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
