"""The file-drop sources: where each is dropped, how it is read, its header map and its schema.

One entry per `inbox/<source>/` folder. The French header -> English column map lives in each schema
module and is applied here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

from connectors.file_drop import RawTable, read_cm360_report, read_delimited, read_french_csv, read_spreadsheet_or_csv
from schemas import (ad_server, admission_decisions, brand_safety, chorus_pro, email_deliverability,
                     forbidden_campaigns, invoice_exports, order_lines, penalty_events, planned_pauses,
                     purchase_orders, regie_reports)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    description: str
    reader: Callable[[Path], RawTable] | None
    headers: dict[str, str]
    model: type | None
    french_numbers: bool
    patterns: tuple[str, ...] = ("*.csv",)
    optional: frozenset[str] = field(default_factory=frozenset)


SOURCES: dict[str, SourceSpec] = {
    s.name: s
    for s in [
        SourceSpec("purchase_orders", "agency export of purchase orders (BDC)", read_french_csv,
                   purchase_orders.HEADERS, purchase_orders.PurchaseOrderRow, french_numbers=True),
        SourceSpec("order_lines", "agency export of purchase-order lines", read_french_csv,
                   order_lines.HEADERS, order_lines.OrderLineRow, french_numbers=True,
                   optional=frozenset(order_lines.OPTIONAL)),
        SourceSpec("ad_server", "Campaign Manager 360 delivery reports", read_cm360_report,
                   ad_server.HEADERS, ad_server.AdServerDeliveryRow, french_numbers=False,
                   patterns=("*.csv", "*.csv.gz"), optional=frozenset(ad_server.OPTIONAL)),
        SourceSpec("regie_reports", "régie campaign reports (bilans)", read_french_csv,
                   regie_reports.HEADERS, regie_reports.RegieReportRow, french_numbers=True,
                   patterns=("*.csv", "*.csv.gz"), optional=frozenset(regie_reports.OPTIONAL)),
        SourceSpec("email_deliverability", "e-mail router statistics per ISP and day",
                   partial(read_delimited, delimiter=","), email_deliverability.HEADERS,
                   email_deliverability.EmailDeliverabilityRow, french_numbers=False),
        SourceSpec("forbidden_campaigns", "SIG list of forbidden campaigns", read_french_csv,
                   forbidden_campaigns.HEADERS, forbidden_campaigns.ForbiddenCampaignRow,
                   french_numbers=True),
        SourceSpec("penalty_events", "SIG's record of penalty events (poor execution, force majeure)",
                   read_french_csv, penalty_events.HEADERS, penalty_events.PenaltyEventRow, french_numbers=True,
                   optional=frozenset(penalty_events.OPTIONAL)),
        SourceSpec("planned_pauses", "agency's planned pauses of campaign flights (media-plan breaks)",
                   read_french_csv, planned_pauses.HEADERS, planned_pauses.PlannedPauseRow, french_numbers=True,
                   optional=frozenset(planned_pauses.OPTIONAL)),
        SourceSpec("invoice_exports", "régies' spreadsheet exports of their invoices (XLSX or French CSV)",
                   read_spreadsheet_or_csv, invoice_exports.HEADERS, invoice_exports.InvoiceExportRow,
                   french_numbers=True, patterns=("*.xlsx", "*.csv"), optional=frozenset(invoice_exports.OPTIONAL)),
        SourceSpec("brand_safety", "advertisers' brand-safety exclusion lists (sites, domains, site groups)",
                   read_french_csv, brand_safety.HEADERS, brand_safety.BrandSafetyExclusionRow, french_numbers=True,
                   optional=frozenset(brand_safety.OPTIONAL)),
        SourceSpec("admission_decisions", "advertisers' decisions on orders (admission, ajournement, réfaction,"
                   " rejet)", read_french_csv, admission_decisions.HEADERS, admission_decisions.AdmissionDecisionRow,
                   french_numbers=True, optional=frozenset(admission_decisions.OPTIONAL)),
    ]
}


# Sources fetched from an API rather than dropped in the inbox: same validation and Parquet, no reader.
API_SOURCES: dict[str, SourceSpec] = {
    s.name: s
    for s in [
        SourceSpec("chorus_invoices", "Chorus Pro invoices received (search pages)", None,
                   chorus_pro.INVOICE_FIELDS, chorus_pro.ChorusInvoiceRow, french_numbers=False,
                   patterns=()),
        SourceSpec("chorus_status_events", "Chorus Pro invoice status histories", None,
                   chorus_pro.STATUS_EVENT_FIELDS, chorus_pro.ChorusStatusEventRow, french_numbers=False,
                   patterns=()),
    ]
}


# Documents kept exactly as received and parsed by the e-invoice step (mediarecon/ingest/einvoices.py), not by
# a tabular reader.
LANDED_ONLY: dict[str, SourceSpec] = {
    "einvoices": SourceSpec("einvoices", "e-invoice copies sent directly (UBL, CII, Factur-X)", None, {}, None,
                            french_numbers=False, patterns=("*.xml", "*.pdf")),
}

# the inbox/<source>/ folders a home is made with (Home.ensure)
INBOX_FOLDERS = (*SOURCES, *LANDED_ONLY)
