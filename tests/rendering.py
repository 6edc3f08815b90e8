"""Workbooks rendered as a person sees them: LibreOffice headless (Debian's libreoffice-calc-nogui, installed
by `make test`) converts them, poppler-utils reads the PDF's pages."""

import re
import shutil
import subprocess
from pathlib import Path

SOFFICE = shutil.which("soffice") or "soffice"  # a missing one fails the test: `make test` installs it


FILTERS = {"pdf": "pdf", "xlsx": "xlsx:Calc MS Excel 2007 XML"}


def render(xlsx: bytes, tmp_path: Path, to: str) -> Path:
    """The workbook converted by LibreOffice headless, to "pdf" (printed as its page setup says) or to
    "xlsx" (with the formulas computed and their values stored). Its own profile: no state shared."""
    source = tmp_path / "rendered" / "workbook.xlsx"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(xlsx)
    out = tmp_path / "rendered" / to
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to",
                    FILTERS[to], "--outdir", str(out), str(source)], check=True, capture_output=True, timeout=180)
    return out / f"workbook.{to}"


def pdf_pages(pdf) -> list[tuple[float, float, str]]:
    """Each page's width and height in points (pdfinfo) and its text (pdftotext)."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    sizes = [tuple(map(float, m)) for m in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]
    texts = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    return [(w, h, t) for (w, h), t in zip(sizes, texts)]
