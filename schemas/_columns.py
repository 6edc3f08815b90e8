"""Column kinds shared by the raw-object schemas, and the Arrow types their validated rows are stored in.

Raw values are validated as text (so a bad cell is reported with the exact value the sender wrote) and
converted to their real type only after validation: money to DECIMAL(18,2), never float. The door
(`mediarecon/ingest/checks.py`) turns these declarations into one SQL pass per file; a date or
timestamp kind carries its calendar check (31/02/2025 matches the pattern but is no date).
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
from pandera.typing import Series

# at most as many digits as the Parquet decimals hold (18,2 and 9,4): a longer number is a bad row, not
# a crash when the file is written
MONEY_RE = r"^-?\d{1,16}(\.\d{1,2})?$"
RATE_RE = r"^-?\d{1,5}(\.\d{1,4})?$"
DATE_FR_RE = r"^\d{2}/\d{2}/\d{4}$"
DATE_ISO_RE = r"^\d{4}-\d{2}-\d{2}$"
TIMESTAMP_ISO_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"
TIMESTAMP_PARIS_RE = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"

ARROW_TYPES = {
    "text": pa_arrow.string(),
    "int": pa_arrow.int64(),
    "money": pa_arrow.decimal128(18, 2),
    "rate": pa_arrow.decimal128(9, 4),
    "date_fr": pa_arrow.date32(),
    "date_iso": pa_arrow.date32(),
    "timestamp_iso": pa_arrow.timestamp("us", tz="UTC"),
    "timestamp_paris": pa_arrow.timestamp("us", tz="UTC"),
}


def money(**kw):
    return pa.Field(str_matches=MONEY_RE, metadata={"kind": "money"}, **kw)


def rate(**kw):
    return pa.Field(str_matches=RATE_RE, metadata={"kind": "rate"}, **kw)


def date_fr(**kw):
    return pa.Field(str_matches=DATE_FR_RE, metadata={"kind": "date_fr"}, **kw)


def date_iso(**kw):
    return pa.Field(str_matches=DATE_ISO_RE, metadata={"kind": "date_iso"}, **kw)


def timestamp_iso(**kw):
    """ISO 8601 with an offset, e.g. 2025-06-15T08:30:00.000+02:00; stored in UTC."""
    return pa.Field(str_matches=TIMESTAMP_ISO_RE, metadata={"kind": "timestamp_iso"}, **kw)


def timestamp_paris(**kw):
    """'YYYY-MM-DD HH:MM' in French local time (Chorus Pro histories); stored in UTC."""
    return pa.Field(str_matches=TIMESTAMP_PARIS_RE, metadata={"kind": "timestamp_paris"}, **kw)


def text(**kw):
    return pa.Field(metadata={"kind": "text"}, **kw)


def integer(**kw):
    return pa.Field(metadata={"kind": "int"}, **kw)


def siret(**kw):
    """14 digits with a valid key (rule `siret_key`: Luhn; for La Poste's establishments, SIREN 356000000
    but the head office, a digit sum that is a multiple of 5: INSEE, as python-stdnum's stdnum.fr.siret)."""
    return pa.Field(str_matches=r"^\d{14}$", metadata={"kind": "text", "rules": ["siret_key"]}, **kw)


# The four discounts of the framework's price schedule, in the order they apply (cascade).
DISCOUNTS = ["volume_discount_eur", "public_interest_discount_eur", "professional_discount_eur",
             "cumul_mandats_discount_eur"]
# Row rules shared by several sources, to the cent (money is DECIMAL(18,2) when they run)
NET_EQUALS_GROSS_MINUS_DISCOUNTS = "gross_ht_eur - " + " - ".join(DISCOUNTS) + " = net_ht_eur"
TTC_EQUALS_NET_PLUS_VAT = "net_ht_eur + vat_eur = net_ttc_eur"


# Results a delivery report may carry (#19): conversions (click-through and view-through apart), their
# revenue, video plays and completions, under the names of CM360's columns (schemas/ad_server.py) wherever
# they come from (a régie's bilan: schemas/regie_reports.py); all optional, and checked by the same rules.
RESULT_ROW_RULES = {
    "total_conversions_are_click_plus_view":
        "total_conversions = click_through_conversions + view_through_conversions",
    "total_revenue_is_click_plus_view":
        "total_revenue_eur = click_through_revenue_eur + view_through_revenue_eur",
    "completions_not_above_plays": "video_completions <= video_plays",
}


class ResultColumns(pa.DataFrameModel):
    """The optional result columns, declared once; a model deriving from it has them (before its own)."""

    total_conversions: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    click_through_conversions: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    view_through_conversions: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    total_revenue_eur: Series[str] = money(nullable=True)
    click_through_revenue_eur: Series[str] = money(nullable=True)
    view_through_revenue_eur: Series[str] = money(nullable=True)
    video_plays: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    video_completions: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)


RESULT_COLUMNS = tuple(ResultColumns.to_schema().columns)


def column_kinds(model) -> dict[str, str]:
    schema = model.to_schema()
    return {name: (col.metadata or {}).get("kind", "text") for name, col in schema.columns.items()}


def arrow_schema(model, extra: dict[str, pa_arrow.DataType]) -> pa_arrow.Schema:
    """The validated Parquet schema: the model's columns in their kinds' types, then `extra` (lineage)."""
    return pa_arrow.schema([pa_arrow.field(n, ARROW_TYPES[k]) for n, k in column_kinds(model).items()]
                           + [pa_arrow.field(n, t) for n, t in extra.items()])
