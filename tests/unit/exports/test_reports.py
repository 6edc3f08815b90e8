"""The monthly statement's workbook, worked by hand: French order, SUM subtotals per ordonnateur and a SUM
total, the header block, the page setup; and rendered by LibreOffice, which computes the formulas and
prints it (page count, orientation, the header row on every page)."""

import datetime as dt
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook

from mediarecon.exports import reports
from mediarecon.warehouse.reader import Origin
from tests.rendering import pdf_pages, render

D = dt.date
INTERIOR, EDUCATION = "Ministère de l'Intérieur", "Ministère de l'Éducation nationale"
DEFENDER, DILA = "Défenseur des droits", "Direction de l'information légale et administrative"
LONG = "Ministère de l'Économie, des Finances et de la Souveraineté industrielle et numérique"


def order(level_1, po, day, media, reduction=None):
    """A statement row (reports.MONTHLY_STATEMENT's columns): media TTC `media`, fees 5 %, price = both."""
    fees = (media * Decimal("0.05")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return (level_1, None, po, D(2025, 5, day), f"Campagne {po}", "CPM", 1000, media, fees, media + fees,
            reduction, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), None)


# in byte order, as the warehouse gave them before: "Direction" before "Défenseur", "Intérieur" before "Éducation"
ROWS = [order(DILA, "BC-4", 3, Decimal("200.00")), order(DEFENDER, "BC-1", 2, Decimal("100.50")),
        order(INTERIOR, "BC-3", 9, Decimal("1200.00")), order(INTERIOR, "BC-5", 4, Decimal("300.00")),
        order(EDUCATION, "BC-2", 7, Decimal("50.25"))]
ORIGIN = Origin("ab" * 32, "nightly-2025-06-20-1a2b3c", "2025-06-20")


def workbook(rows=ROWS):
    book = io.BytesIO()
    reports.write_statement_xlsx(book, reports.statement_title(D(2025, 5, 1), None), D(2025, 5, 1), rows, [], ORIGIN)
    return book.getvalue()


def test_statement_rows_are_in_french_dictionary_order():
    assert [r[2] for r in reports.statement_sorted(ROWS)] == ["BC-1", "BC-4", "BC-2", "BC-5", "BC-3"]


def test_the_statement_sheet_has_sum_subtotals_per_ordonnateur_and_a_sum_total():
    ws = load_workbook(io.BytesIO(workbook()))["État"]
    # title, five header lines, a blank row, the column names in row 8, data from row 9
    assert ws["A8"].value == "Ordonnateur niveau 1" and ws.freeze_panes == "A9"
    assert [ws.cell(row=n, column=1).value for n in range(9, 19)] == [
        DEFENDER, DEFENDER, DILA, DILA, EDUCATION, EDUCATION, INTERIOR, INTERIOR, INTERIOR, "Total"]
    assert [ws.cell(row=n, column=3).value for n in range(9, 18)] == [
        "BC-1", None, "BC-4", None, "BC-2", None, "BC-5", "BC-3", None]
    assert [ws.cell(row=n, column=2).value for n in (10, 12, 14, 17)] == ["Sous-total"] * 4
    assert ws["H10"].value == "=SUM(H9)" and ws["H17"].value == "=SUM(H15:H16)"
    assert ws["J17"].value == "=SUM(J15:J16)" and ws["H18"].value == "=SUM(H10,H12,H14,H17)"
    assert ws["K17"].value is None and ws["K18"].value is None  # no réfaction computed yet: empty, not 0
    assert ws["H17"].font.b and ws["H18"].font.b and not ws["H16"].font.b
    assert ws["H15"].value == 300.0 and ws["H15"].number_format == '#,##0.00 "€"'
    assert ws.auto_filter.ref == "A8:O17"  # the orders and their subtotals; the total stays below


def test_the_header_block_says_what_the_statement_covers_and_where_it_comes_from():
    wb = load_workbook(io.BytesIO(workbook()))
    ws = wb["État"]
    assert ws["A1"].value == "État récapitulatif d'exécution — 05/2025 — ensemble des entités utilisatrices"
    assert [ws.cell(row=n, column=1).value.split(" : ")[0] for n in range(2, 7)] == [
        "Période", "Données arrêtées au", "Exécution ayant construit l'entrepôt", "Généré le",
        "Entrepôt source (SHA-256)"]
    assert ws["A2"].value == "Période : du 01/05/2025 au 31/05/2025"
    assert ws["A3"].value == "Données arrêtées au : 20/06/2025"
    assert ws["A4"].value.endswith(": nightly-2025-06-20-1a2b3c") and ws["A6"].value.endswith(": " + "ab" * 32)
    assert re.fullmatch(r"Généré le : \d\d/\d\d/20\d\d \d\d:\d\d \(heure de Paris\), par mediarecon .+", ws["A5"].value)
    assert wb["Objectifs"]["A3"].value == ws["A3"].value  # every sheet says it
    assert wb.properties.creator == "mediarecon" and wb.properties.lastModifiedBy == "mediarecon"


def test_every_sheet_prints_on_a4_landscape_fit_to_width_with_its_header_row_repeated():
    wb = load_workbook(io.BytesIO(workbook()))
    for ws in wb.worksheets:
        assert (ws.page_setup.orientation, int(ws.page_setup.paperSize)) == ("landscape", int(ws.PAPERSIZE_A4))
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$8:$8" and ws.freeze_panes == "A9"
        assert ws.auto_filter.ref.startswith("A8:")


def test_columns_are_as_wide_as_their_content_and_a_long_name_wraps_rather_than_being_cut():
    ws = load_workbook(io.BytesIO(workbook([*ROWS, order(LONG, "BC-6", 5, Decimal("1234567.89"))])))["État"]
    assert ws.column_dimensions["A"].width == reports.MAX_WIDTH and ws["A13"].alignment.wrap_text
    assert ws["A13"].value == LONG  # the whole name, after DILA's subtotal ("Économie" before "Éducation")
    assert ws.column_dimensions["H"].width == len("1,234,567.89 €") + 2
    assert ws.column_dimensions["D"].width == len("00/00/0000") + 2
    assert ws.column_dimensions["F"].width == len("commandées") + 2  # the label's longest word: "CPM" is shorter


def test_libreoffice_computes_the_subtotals_and_total_that_were_worked_by_hand(tmp_path):
    computed = load_workbook(render(workbook(), tmp_path, "xlsx"), data_only=True)["État"]
    assert computed["H17"].value == pytest.approx(1500.00)  # Intérieur: 1 200 + 300
    assert computed["J17"].value == pytest.approx(1575.00)  # with 5 % fees: 1 260 + 315
    assert computed["H18"].value == pytest.approx(1850.75)  # 100.50 + 200 + 50.25 + 1 500
    assert computed["J18"].value == pytest.approx(1943.29)  # 105.53 + 210 + 52.76 + 1 575


def test_a_printed_statement_is_landscape_a4_with_every_column_and_the_header_on_each_page(tmp_path):
    many = [order(n % 7 and INTERIOR or DEFENDER, f"BC-{n:03}", 1 + n % 28, Decimal(n)) for n in range(1, 121)]
    pages = pdf_pages(render(workbook(many), tmp_path, "pdf"))
    statement_pages = [p for p in pages if "Ordonnateur niveau 1" in p[2]]
    assert len(statement_pages) >= 3 and len(pages) == len(statement_pages) + 1  # + the Objectifs sheet
    for width, height, text in pages:
        assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    for _, _, text in statement_pages:  # fit to width: the first and the last column on every page
        assert "Ordonnateur" in text and "Réfactions" in text
    assert "Entrepôt source (SHA-256)" in statement_pages[0][2] and "Total" in statement_pages[-1][2]
    assert "Page 1 / " in pages[0][2]
    # five orders: the statement on one page (its byte-for-byte layout before took 22 portrait pages)
    assert len(pdf_pages(render(workbook(), tmp_path / "small", "pdf"))) == 2
