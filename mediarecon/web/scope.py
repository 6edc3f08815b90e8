"""What a dashboard user may see, decided in this one place for every page and API route.

The dashboard's SQL never names a table: it names a relation in braces (`{findings}`), and `Scope.sql`
puts in its place the mart filtered to the user's advertiser (CCAP 11.7, confidentiality). A coordinator
or an auditor sees every row; an advertiser only rows of its own `advertiser_id`; the contract-wide
marts (EPM results, the framework's ceiling) are the coordinator's and the auditor's only. A query that
names a table directly is refused before it runs, so a new page cannot forget the scope.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass

from mediarecon.settings import ReaderSettings
from mediarecon.state.home import Home
from mediarecon.warehouse.reader import Origin, Reader, open_reader

EVERYONE = None  # reference data with no advertiser in it: every user sees it whole
NOBODY = "\x00no advertiser"  # the scope of a user whose role grants nothing: matches no row
NOBODY_BUT_STAFF = "false"  # contract-wide figures, summed over every advertiser

# relation -> (table, the filter that keeps one advertiser's rows; $advertiser is its id)
RELATIONS: dict[str, tuple[str, str | None]] = {
    "findings": ("fct_findings", "advertiser_id = $advertiser"),
    "order_lines": ("fct_order_line_delivery", "advertiser_id = $advertiser"),
    "daily_volumes": ("fct_daily_volumes", "advertiser_id = $advertiser"),
    "statement": ("rpt_monthly_execution_statement", "advertiser_id = $advertiser"),
    "campaign_kpis": ("fct_campaign_kpis", "campaign_id in (select campaign_id from fct_order_line_delivery"
                                           " where advertiser_id = $advertiser)"),
    "objectives": ("fct_campaign_objectives", "advertiser_id = $advertiser"),
    "results": ("rpt_results_against_objectives", "advertiser_id = $advertiser"),
    "advertisers": ("reference.advertisers", "advertiser_id = $advertiser"),
    "campaign_sites": ("fct_campaign_sites", "advertiser_id = $advertiser"),
    "campaign_creatives": ("fct_campaign_creatives", "advertiser_id = $advertiser"),
    "brand_safety_exclusions": ("dim_brand_safety_exclusions", "advertiser_id = $advertiser"),
    "admission_decisions": ("fct_admission_decisions", "advertiser_id = $advertiser"),
    "invoice_payments": ("fct_invoice_payments", "advertiser_id = $advertiser"),
    "epm_results": ("fct_epm_results", NOBODY_BUT_STAFF),
    "finding_types": ("reference.finding_types", EVERYONE),
    "epm_commitments": ("reference.epm_commitments", EVERYONE),
    "media_sellers": ("reference.media_sellers", EVERYONE),
    "agencies": ("reference.agencies", EVERYONE),
}

# a table named outside the braces: what `Scope.sql` refuses
_BARE_TABLE = re.compile(r"\b(fct|rpt|dim|int|stg)_\w+|\breference\b|\binformation_schema\b|\bduckdb_\w+"
                         r"|\bquery(_table)?\s*\(|\bread_\w+\s*\(|\bglob\s*\(", re.IGNORECASE)
_RELATION = re.compile(r"\{(\w+)\}")
STAFF_ROLES = ("coordinator", "auditor")


class ScopeError(RuntimeError):
    """The dashboard's own SQL bypassed the scope: a bug, never a user's doing."""


@dataclass(frozen=True)
class Scope:
    """None: every advertiser (coordinator, auditor); else the one advertiser whose rows may be seen."""

    advertiser_id: str | None

    @classmethod
    def of(cls, user) -> "Scope":
        """Fails closed: a role that is neither staff nor an advertiser with its id sees nothing."""
        if user.role in STAFF_ROLES:
            return cls(None)
        if user.role == "advertiser" and user.advertiser_id:
            return cls(user.advertiser_id)
        return cls(NOBODY)

    @property
    def is_staff(self) -> bool:
        return self.advertiser_id is None

    @property
    def sees_whole_files(self) -> bool:
        """A received file holds every advertiser's rows: whole, it is for the staff only (exports.evidence)."""
        return self.is_staff

    def allows(self, advertiser_id: str | None) -> bool:
        """A row from outside the warehouse (an alert) by its advertiser: the same rule as the relations."""
        return self.is_staff or (advertiser_id is not None and advertiser_id == self.advertiser_id)

    def sql(self, template: str) -> str:
        """The template with each `{relation}` replaced by its table, filtered to this scope."""
        found = _BARE_TABLE.search(template)
        if found:
            raise ScopeError(f"dashboard SQL names {found.group(0)!r} directly: use a relation of web.scope.RELATIONS")

        def relation(name: str) -> str:
            table, keep = RELATIONS[name]
            if keep is None or self.is_staff:
                return f"(select * from {table})"
            return f"(select * from {table} where {keep})"

        def placed(found: re.Match) -> str:
            if found.group(1) not in RELATIONS:
                raise ScopeError(f"dashboard SQL names an unknown relation {{{found.group(1)}}}")
            return relation(found.group(1))

        # only the known {relation} placeholders are replaced: nothing else in the text is interpreted
        return _RELATION.sub(placed, template)

    def params(self, sql: str, given: dict | None) -> dict:
        params = dict(given or {})
        if "$advertiser" in sql:
            params["advertiser"] = self.advertiser_id
        return params


class PublishedWarehouse:
    """The published warehouse through the auditor's locked reader connection, shared by the requests.
    A nightly publishes by renaming a new file into place: the open reader keeps the old file (it never
    blocks the nightly), and the next query reopens on the new one."""

    def __init__(self, home: Home, limits: ReaderSettings):
        self.home, self.limits = home, limits
        self._lock = threading.Lock()  # one DuckDB connection: one query at a time
        self._reader: Reader | None = None
        self._opened: tuple | None = None

    def _stamp(self) -> tuple | None:
        try:
            st = os.stat(self.home.published_db)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _current(self) -> Reader:
        stamp = self._stamp()
        if self._reader is None or stamp != self._opened:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            self._reader = open_reader(self.home, self.limits)
            self._opened = stamp
        return self._reader

    @property
    def published_at(self) -> float | None:
        stamp = self._stamp()
        return stamp[1] / 1e9 if stamp else None

    def origin(self) -> Origin:
        """The sha256 and run of the warehouse the dashboard reads now (a report's header block)."""
        with self._lock:
            return self._current().origin()

    def rows(self, scope: Scope, template: str, params: dict | None = None) -> list[dict]:
        """The rows of one dashboard query in `scope`, as dicts."""
        sql = scope.sql(template)
        with self._lock:
            cur = self._current().execute(sql, scope.params(sql, params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
