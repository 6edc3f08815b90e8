"""Readers for the files senders drop in the inbox: French CSV exports, Excel workbooks and Campaign
Manager 360 reports.

Readers only split bytes into a header and rows of strings, keeping each row's physical line number so
that every later complaint can name file and line. Types and rules are the schemas' job.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

CM360_FIELDS_MARKER = "Report Fields"
CM360_TOTAL_MARKER = "Grand Total:"
CM360_UNMEASURED = "-"


class StructuralError(Exception):
    """The file cannot be read as its source's format at all: it is rejected whole."""


@dataclass
class RawTable:
    """A file's header and its rows as written: one Arrow string column per header position ("0", "1",
    …), each row's physical line (Excel's row for a workbook), and the rows with a wrong field count."""

    columns: list[str]
    data: pa.Table
    lines: pa.Array
    encoding: str
    ragged: list[tuple[int, int]] = field(default_factory=list)  # (line, field count) of bad rows

    @classmethod
    def from_rows(cls, columns: list[str], rows: list[list[str | None]], lines: list[int], encoding: str,
                  ragged: list[tuple[int, int]] | None = None) -> "RawTable":
        data = pa.table({str(i): pa.array([r[i] for r in rows], pa.string()) for i in range(len(columns))}
                        if columns else {})
        return cls(columns, data, pa.array(lines, pa.int64()), encoding, ragged or [])

    @property
    def rows(self) -> list[list[str | None]]:
        return [list(r.values()) for r in self.data.to_pylist()]

    @property
    def line_numbers(self) -> list[int]:
        return self.lines.to_pylist()


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


_NOT_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # what bytes.strip() removes


def _blank(data: bytes, start: int) -> bool:
    """Nothing but whitespace from `start` on (found without the copy `data[start:].strip()` makes)."""
    return _NOT_BLANK.search(data, start) is None


def _is_utf8(data: bytes) -> bool:
    """Checked by Arrow over the bytes themselves (decoding them would build a copy of the whole file)."""
    if data.isascii():
        return True
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _utf8(data: bytes, path: Path) -> tuple[bytes, str]:
    """The bytes as UTF-8 and the encoding they were in (see `decode`); UTF-8 input is not copied."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")) and _is_utf8(data):
        return data, "utf-8"
    text, encoding = decode(data, path)
    return text.encode("utf-8"), encoding


def _split(text: str, delimiter: str, path: Path, header_offset: int = 0):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield reader.line_num + header_offset, row
    except csv.Error as e:
        raise StructuralError(f"{path.name}: line {reader.line_num + header_offset}: unreadable CSV ({e})")


def _table(lines, path: Path, encoding: str, what: str) -> RawTable:
    """Row by row: the exact path, for files whose physical lines are not their records."""
    try:
        _, header = next(lines)
    except StopIteration:
        raise StructuralError(f"{path.name}: empty file, no {what} header")
    header = [h.strip() for h in header]
    rows, numbers, ragged = [], [], []
    for line, row in lines:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            ragged.append((line, len(row)))
            continue
        rows.append(row)
        numbers.append(line)
    return RawTable.from_rows(header, rows, numbers, encoding, ragged)


def _columnar(data: bytes, start: int, delimiter: str, header_offset: int, encoding: str,
              null_values: tuple[str, ...] = ()) -> RawTable | None:
    """The whole body (`data` from `start`: offsets, not slices, which would copy a report) parsed at once
    by Arrow's CSV reader, when each physical line is one record: then a row's line is its position. None
    when that cannot be shown (a quoted line break, a blank line, a row with a wrong field count, a lone
    CR, a NUL): the row-by-row path reads those exactly. Rows of blank cells are left in; the door drops
    them, as it trims every cell."""
    end = data.find(b"\n", start)
    head = data[start:] if end < 0 else data[start:end]
    if (head.count(b'"') % 2 or data.find(b"\x00", start) >= 0
            or (data.find(b"\r", start) >= 0 and data.count(b"\r", start) != data.count(b"\r\n", start))):
        return None
    header = next(csv.reader([head.decode("utf-8").rstrip("\r")], delimiter=delimiter), None)
    if not header:
        return None
    names = [str(i) for i in range(len(header))]
    if end < 0 or end + 1 == len(data):
        return RawTable([h.strip() for h in header], pa.table({n: pa.array([], pa.string()) for n in names}),
                        pa.array([], pa.int64()), encoding)
    records = data.count(b"\n", end + 1) + (0 if data.endswith(b"\n") else 1)
    try:
        table = pa_csv.read_csv(pa.BufferReader(pa.py_buffer(data).slice(end + 1)),
                                read_options=pa_csv.ReadOptions(column_names=names),
                                parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                                                  ignore_empty_lines=False),
                                convert_options=pa_csv.ConvertOptions(  # UTF-8 already checked by _utf8
                                    column_types={n: pa.string() for n in names}, null_values=list(null_values),
                                    strings_can_be_null=bool(null_values), quoted_strings_can_be_null=False,
                                    check_utf8=False))
    except pa.ArrowInvalid:
        return None
    if table.num_rows != records:
        return None
    lines = pa.array(np.arange(header_offset + 2, header_offset + 2 + records, dtype=np.int64))
    return RawTable([h.strip() for h in header], table, lines, encoding)


def read_delimited(path: Path, delimiter: str) -> RawTable:
    """A CSV with one header row; French exports use ';' and may be Windows-1252."""
    path = Path(path)
    body, encoding = _utf8(read_bytes(path), path)
    if _blank(body, 0):
        raise StructuralError(f"{path.name}: empty file, no column header")
    return _columnar(body, 0, delimiter, 0, encoding) or _table(
        _split(body.decode("utf-8"), delimiter, path), path, encoding, "column")


def read_french_csv(path: Path) -> RawTable:
    return read_delimited(path, ";")


# the line that is CM360_FIELDS_MARKER once stripped of spaces, then of trailing commas, then of colons
_CM360_MARKER = re.compile(rb"^[ \t\f\v]*" + CM360_FIELDS_MARKER.encode() + rb":*,*[ \t\f\v]*\r?$", re.M)


def read_cm360_report(path: Path) -> RawTable:
    """Campaign Manager 360 report file: metadata preamble, a `Report Fields` line, one header row of UI
    labels, data rows, an optional `Grand Total:` row; `-` marks an unmeasured metric (read as null)."""
    path = Path(path)
    data, encoding = _utf8(read_bytes(path), path)
    marker = _CM360_MARKER.search(data)
    if marker is None:
        raise StructuralError(f"{path.name}: no '{CM360_FIELDS_MARKER}' line: not a Campaign Manager 360 report")
    start = data.find(b"\n", marker.end()) + 1  # where the header row begins (0: no line after the marker)
    if not start or _blank(data, start):
        raise StructuralError(f"{path.name}: empty file, no Report Fields header")
    offset = data.count(b"\n", 0, start)
    table = _columnar(data, start, ",", offset, encoding, null_values=(CM360_UNMEASURED,))
    if table is None:
        table = _table(_split(data[start:].decode("utf-8"), ",", path, header_offset=offset), path, encoding,
                       "Report Fields")
        unmeasured = pa.scalar(None, pa.string())
        table.data = pa.table({n: pc.if_else(pc.equal(c, CM360_UNMEASURED), unmeasured, c)
                               for n, c in zip(table.data.column_names, table.data.columns)})
    if table.columns and table.data.num_rows:
        total = pc.fill_null(pc.match_substring_regex(table.data.column(0), r"^\s*" + CM360_TOTAL_MARKER + r"\s*$"),
                             False)
        at = pc.indices_nonzero(total).to_pylist()
        n = table.data.num_rows
        if at == [n - 1]:  # where CM360 writes it: the table without its last row is a view, not a copy
            table.data, table.lines = table.data.slice(0, n - 1), table.lines.slice(0, n - 1)
        elif at:
            keep = pc.invert(total)
            table.data, table.lines = table.data.filter(keep), table.lines.filter(keep)
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
        kept, numbers, ragged = [], [], []
        for line, row in rows:
            row = (row + [None] * len(header))[:max(len(header), len(row))]
            if not any(c is not None and c.strip() for c in row):
                continue
            if any(c is not None and c.strip() for c in row[len(header):]):
                ragged.append((line, len(row)))
                continue
            kept.append([c if c is not None else "" for c in row[:len(header)]])
            numbers.append(line)
        return RawTable.from_rows([h.strip() if h else "" for h in header], kept, numbers, "xlsx", ragged)
    finally:
        wb.close()


def read_spreadsheet_or_csv(path: Path) -> RawTable:
    """An XLSX workbook (a ZIP: magic bytes PK) or a French CSV."""
    with open(path, "rb") as f:
        magic = f.read(4)
    return read_xlsx(path) if magic == b"PK\x03\x04" else read_french_csv(path)
