"""What happened to one landed file at the door, in the words the manifest, logs and `status` keep. Kept
apart from the door's machinery (DuckDB, pandera) so that a worker process parsing e-invoices does not
import it."""

from __future__ import annotations

from dataclasses import dataclass, field

REASON_MAX = 300  # characters of a reason kept in the manifest, logs and status (the cut is counted)


def capped(reason: str | None) -> str | None:
    if reason is None or len(reason) <= REASON_MAX:
        return reason
    return f"{reason[:REASON_MAX]}… ({len(reason) - REASON_MAX} more characters)"


def printable_name(name: str) -> str:
    """A sender's file name as text that is safe anywhere (manifest, logs, a terminal): undecodable bytes as
    \\xNN, control characters (a newline forging a line of `status`) as escapes."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass
class FileOutcome:
    source: str
    sha256: str
    file_name: str
    status: str  # validated | partial | rejected
    reason: str | None = None
    rows_read: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    quarantine: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.file_name, self.reason = printable_name(self.file_name), capped(self.reason)
