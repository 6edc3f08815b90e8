"""Readers for the files senders drop in the inbox: French CSV exports, Excel workbooks and Campaign
Manager 360 reports.

Readers only split bytes into a header and rows of strings, keeping each row's physical line number so
that every later complaint can name file and line. Types and rules are the schemas' job.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

CM360_FIELDS_MARKER = "Report Fields"
CM360_TOTAL_MARKER = "Grand Total:"
CM360_UNMEASURED = "-"


class StructuralError(Exception):
    """The file cannot be read as its source's format at all: it is rejected whole."""


@dataclass
class RawTable:
    columns: list[str]
    rows: list[list[str | None]]
    line_numbers: list[int]
    encoding: str
    ragged: list[tuple[int, int]] = field(default_factory=list)  # (line, field count) of bad rows


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when they are gzip (Ad Manager and some régies deliver .csv.gz)."""
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise StructuralError(f"{Path(path).name}: broken gzip ({e})")
    return data


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """UTF-16 with its BOM (Excel's "Unicode text"); else UTF-8 (with or without BOM); French Excel
    exports fall back to Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as e:
            raise StructuralError(f"{path.name}: a UTF-16 byte-order mark, then not UTF-16 ({e.reason} at byte {e.start})")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as e:
        raise StructuralError(f"{path.name}: neither UTF-8 nor Windows-1252 ({e.reason} at byte {e.start})")


def _split(text: str, delimiter: str, path: Path, header_offset: int = 0):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield reader.line_num + header_offset, row
    except csv.Error as e:
        raise StructuralError(f"{path.name}: line {reader.line_num + header_offset}: unreadable CSV ({e})")


def _table(lines, path: Path, encoding: str, what: str) -> RawTable:
    try:
        _, header = next(lines)
    except StopIteration:
        raise StructuralError(f"{path.name}: empty file, no {what} header")
    header = [h.strip() for h in header]
    table = RawTable(columns=header, rows=[], line_numbers=[], encoding=encoding)
    for line, row in lines:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            table.ragged.append((line, len(row)))
            continue
        table.rows.append(row)
        table.line_numbers.append(line)
    return table


def read_delimited(path: Path, delimiter: str) -> RawTable:
    """A CSV with one header row; French exports use ';' and may be Windows-1252."""
    text, encoding = decode(read_bytes(path), Path(path))
    return _table(_split(text, delimiter, Path(path)), Path(path), encoding, "column")


def read_french_csv(path: Path) -> RawTable:
    return read_delimited(path, ";")


def read_cm360_report(path: Path) -> RawTable:
    """Campaign Manager 360 report file: metadata preamble, a `Report Fields` line, one header row of UI
    labels, data rows, an optional `Grand Total:` row; `-` marks an unmeasured metric (read as null)."""
    path = Path(path)
    text, encoding = decode(read_bytes(path), path)
    lines = text.splitlines(keepends=True)
    marker = next(
        (i for i, ln in enumerate(lines) if ln.strip().rstrip(",").rstrip(":") == CM360_FIELDS_MARKER),
        None,
    )
    if marker is None:
        raise StructuralError(f"{path.name}: no '{CM360_FIELDS_MARKER}' line: not a Campaign Manager 360 report")
    body = "".join(lines[marker + 1:])
    table = _table(_split(body, ",", path, header_offset=marker + 1), path, encoding, "Report Fields")
    keep = [i for i, row in enumerate(table.rows) if row[0].strip() != CM360_TOTAL_MARKER]
    table.rows = [[None if c == CM360_UNMEASURED else c for c in table.rows[i]] for i in keep]
    table.line_numbers = [table.line_numbers[i] for i in keep]
    return table


def _cell_text(value) -> str | None:
    """An Excel cell as the text a French export would hold: dates dd/mm/yyyy, numbers with a decimal
    point and without binary-float noise (17188.930000000002 -> 17188.93)."""
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y") if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(round(value, 9), "f").rstrip("0").rstrip(".")
    return str(value)


def read_xlsx(path: Path) -> RawTable:
    """The first sheet of a workbook. Title lines above the header are skipped: the header is the first
    row with at least three filled cells. Line numbers are Excel's row numbers."""
    import zipfile

    from openpyxl import load_workbook

    path = Path(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise StructuralError(f"{path.name}: not a readable Excel workbook ({e})")
    try:
        rows = ((i, [_cell_text(v) for v in r]) for i, r in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1))
        header_line, header = next(((i, r) for i, r in rows if sum(c is not None and c.strip() != "" for c in r) >= 3),
                                   (None, None))
        if header is None:
            raise StructuralError(f"{path.name}: no header row in the first sheet")
        while header and header[-1] is None:
            header.pop()
        table = RawTable(columns=[h.strip() if h else "" for h in header], rows=[], line_numbers=[], encoding="xlsx")
        for line, row in rows:
            row = (row + [None] * len(header))[:max(len(header), len(row))]
            if not any(c is not None and c.strip() for c in row):
                continue
            if any(c is not None and c.strip() for c in row[len(header):]):
                table.ragged.append((line, len(row)))
                continue
            table.rows.append([c if c is not None else "" for c in row[:len(header)]])
            table.line_numbers.append(line)
        return table
    finally:
        wb.close()


def read_spreadsheet_or_csv(path: Path) -> RawTable:
    """An XLSX workbook (a ZIP: magic bytes PK) or a French CSV."""
    with open(path, "rb") as f:
        magic = f.read(4)
    return read_xlsx(path) if magic == b"PK\x03\x04" else read_french_csv(path)
