"""The cost-control auditor's saved queries (audit_queries/*.sql, first line: a one-line description)."""

from __future__ import annotations

from pathlib import Path

AUDIT_QUERIES_DIR = Path(__file__).with_name("audit_queries")


def saved_queries() -> dict[str, tuple[str, str]]:
    """{name: (one-line description, SQL)} of the saved audit queries shipped with the product."""
    out = {}
    for path in sorted(AUDIT_QUERIES_DIR.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        out[path.stem] = (text.splitlines()[0].lstrip("- ").strip(), text)
    return out
