"""Reports the agency owes, exported from the published warehouse for people: formatted XLSX (title,
frozen header, euro formats, totals row) or French CSV (`;`, decimal comma, UTF-8 with BOM for Excel).
Column labels are French, as the contract requires French documents."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import typing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb


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
# the statement's row order, wherever it is read (this module, the dashboard)
STATEMENT_ORDER = "ordonnateur_level_1, order_date, purchase_order_id"


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
           " where statement_month = ?" + (" and advertiser_id = ?" if advertiser else "")
           + f" order by {STATEMENT_ORDER}")
    rows = con.execute(sql, [first, advertiser] if advertiser else [first]).fetchall()
    return statement_title(first, known[0] if advertiser else None), rows


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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_xlsx(path: "Path | typing.BinaryIO", title: str, columns: list[Column], rows: list[tuple], totals: bool = True,
               more_sheets: tuple[tuple[str, str, list[Column], list[tuple]], ...] = ()) -> None:
    """The first sheet "État" (title, frozen header, formats, totals row), and each of `more_sheets` (sheet
    name, title, columns, rows) laid out the same way, with no totals."""
    from openpyxl import Workbook

    wb = Workbook()
    _sheet(wb.active, "État", title, columns, rows, totals)
    for name, sheet_title, sheet_columns, sheet_rows in more_sheets:
        _sheet(wb.create_sheet(), name, sheet_title, sheet_columns, sheet_rows, False)
    wb.save(path)


def _sheet(ws, name: str, title: str, columns: list[Column], rows: list[tuple], totals: bool) -> None:
    from openpyxl.styles import Font

    ws.title = name
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    ws.append([c.label for c in columns])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A4"  # title and header stay visible
    for r in rows:
        ws.append([float(v) if isinstance(v, Decimal) else v for v in r])
        for cell in ws[ws.max_row]:
            # a sender's text that looks like a formula (=, +, -, @) stays text: never evaluated by Excel
            if isinstance(cell.value, str) and cell.value[:1] in FORMULA_STARTS:
                cell.data_type = "s"
    if totals:
        ws.append([float(v) if isinstance(v, Decimal) else v for v in _totals(columns, rows)])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    for i, c in enumerate(columns, start=1):
        letter = ws.cell(row=3, column=i).column_letter
        ws.column_dimensions[letter].width = max(12, min(45, len(c.label) + 2))
        fmt = {"eur": '#,##0.00 "€"', "date": "DD/MM/YYYY", "int": "#,##0", "dec": "#,##0.00##"}.get(c.kind)
        if fmt:
            for row in ws.iter_rows(min_row=4, min_col=i, max_col=i):
                row[0].number_format = fmt


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
