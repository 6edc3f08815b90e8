"""The readers: CM360 report layout and French CSV exports."""

import pytest

from connectors.file_drop import StructuralError, read_cm360_report, read_french_csv

CM360_HEADER = "Date,Placement ID,Impressions,Active View: Viewable Impressions"


def cm360(body: str, total: bool) -> str:
    lines = ["Report Name,Livraison test", "Date Range,2025-03-01 - 2025-03-31", "", "Report Fields", CM360_HEADER,
             body]
    if total:
        lines.append("Grand Total:,,3000,-")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("total", [True, False])
def test_cm360_report_with_and_without_grand_total(tmp_path, total):
    p = tmp_path / "r.csv"
    p.write_text(cm360("2025-03-01,111,1000,600\n2025-03-02,111,2000,-", total), encoding="utf-8")
    t = read_cm360_report(p)
    assert t.columns == ["Date", "Placement ID", "Impressions", "Active View: Viewable Impressions"]
    assert t.rows == [["2025-03-01", "111", "1000", "600"], ["2025-03-02", "111", "2000", None]]
    # preamble is 4 lines, header line 5: data rows are physical lines 6 and 7
    assert t.line_numbers == [6, 7]


def test_cm360_marker_with_colon_is_accepted(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(cm360("2025-03-01,111,1000,600", False).replace("Report Fields", "Report Fields:"))
    assert read_cm360_report(p).rows == [["2025-03-01", "111", "1000", "600"]]


def test_cm360_without_report_fields_is_rejected_whole(tmp_path):
    p = tmp_path / "not_a_report.csv"
    p.write_text("Date,Impressions\n2025-03-01,10\n")
    with pytest.raises(StructuralError, match="not_a_report.csv: no 'Report Fields' line"):
        read_cm360_report(p)


def test_french_csv_in_cp1252_with_decimal_comma(tmp_path):
    p = tmp_path / "bilan.csv"
    text = "Référence ordre;Montant net HT\r\n2500000001-001;1234,56\r\n\r\n2500000001-002;7,5\r\n"
    p.write_bytes(text.encode("cp1252"))
    t = read_french_csv(p)
    assert t.encoding == "cp1252"
    assert t.columns == ["Référence ordre", "Montant net HT"]
    # the blank line 3 may come as a row of blank cells (the door drops those); numbering is kept
    kept = [(line, row) for line, row in zip(t.line_numbers, t.rows) if any(c.strip() for c in row)]
    assert kept == [(2, ["2500000001-001", "1234,56"]), (4, ["2500000001-002", "7,5"])]


def test_french_csv_utf8_bom_and_ragged_rows(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes("\ufeffA;B\n1;2\n3\n4;5;6\n".encode("utf-8"))
    t = read_french_csv(p)
    assert t.encoding == "utf-8" and t.columns == ["A", "B"]
    assert t.rows == [["1", "2"]]
    assert t.ragged == [(3, 1), (4, 3)]


def test_gzipped_report_parses_like_the_plain_one(tmp_path):
    import gzip

    text = cm360("2025-03-01,111,1000,600\n2025-03-02,111,2000,-", True)
    plain, packed = tmp_path / "r.csv", tmp_path / "r.csv.gz"
    plain.write_text(text, encoding="utf-8")
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    assert read_cm360_report(packed).rows == read_cm360_report(plain).rows
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(text.encode())[:30])
    with pytest.raises(StructuralError, match="broken.csv.gz: broken gzip"):
        read_cm360_report(broken)


def test_xlsx_export_title_row_skipped_numbers_and_dates_as_a_french_export_writes_them(tmp_path):
    from connectors.file_drop import read_spreadsheet_or_csv
    from simulators.chorus_invoices import write_xlsx

    path = tmp_path / "factures.xlsx"
    write_xlsx(path, ["N° facture", "Date de facture", "Quantité", "Montant net HT"],
               [["F-1", "02/04/2025", "12", "105840.00"], ["F-2", "03/04/2025", "3", "0.30"]])
    t = read_spreadsheet_or_csv(path)
    assert t.columns == ["N° facture", "Date de facture", "Quantité", "Montant net HT"]
    assert t.rows == [["F-1", "02/04/2025", "12", "105840"], ["F-2", "03/04/2025", "3", "0.3"]]
    assert t.line_numbers == [3, 4]  # Excel rows: title on 1, header on 2


def test_xlsx_float_noise_is_removed_and_a_broken_workbook_is_a_structural_error(tmp_path):
    from openpyxl import Workbook

    from connectors.file_drop import read_xlsx

    wb = Workbook()
    wb.active.append(["a", "b", "c"])
    wb.active.append([0.1 + 0.2, 17188.930000000002, None])
    wb.save(tmp_path / "x.xlsx")
    assert read_xlsx(tmp_path / "x.xlsx").rows == [["0.3", "17188.93", ""]]
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(StructuralError, match="broken.xlsx: not a readable Excel workbook"):
        read_xlsx(tmp_path / "broken.xlsx")


def test_cm360_grand_total_rows_are_dropped_wherever_they_are(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(cm360("2025-03-01,111,1000,600\n Grand Total: ,,1000,600\n2025-03-02,111,2000,-", True),
                 encoding="utf-8")
    t = read_cm360_report(p)
    assert t.rows == [["2025-03-01", "111", "1000", "600"], ["2025-03-02", "111", "2000", None]]
    assert t.line_numbers == [6, 8]
