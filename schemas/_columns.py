"""Column kinds shared by the raw-object schemas, and the conversion of validated rows to Parquet types.

Raw values are validated as text (so a bad cell is reported with the exact value the sender wrote) and
converted to their real type only after validation: money to DECIMAL(18,2), never float.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.extensions import register_check_method
import pyarrow as pa_arrow

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


@register_check_method(statistics=["fmt"], check_type="vectorized")
def real_calendar_date(series: pd.Series, *, fmt: str) -> pd.Series:
    """The text is a real calendar date or time (31/02/2025 matches the pattern but is not one)."""
    return pd.to_datetime(series, format=fmt, errors="coerce").notna() | series.isna()


def money(**kw):
    return pa.Field(str_matches=MONEY_RE, metadata={"kind": "money"}, **kw)


def rate(**kw):
    return pa.Field(str_matches=RATE_RE, metadata={"kind": "rate"}, **kw)


def date_fr(**kw):
    return pa.Field(str_matches=DATE_FR_RE, real_calendar_date={"fmt": "%d/%m/%Y"}, metadata={"kind": "date_fr"},
                    **kw)


def date_iso(**kw):
    return pa.Field(str_matches=DATE_ISO_RE, real_calendar_date={"fmt": "%Y-%m-%d"}, metadata={"kind": "date_iso"},
                    **kw)


def timestamp_iso(**kw):
    """ISO 8601 with an offset, e.g. 2025-06-15T08:30:00.000+02:00; stored in UTC."""
    return pa.Field(str_matches=TIMESTAMP_ISO_RE, metadata={"kind": "timestamp_iso"}, **kw)


def timestamp_paris(**kw):
    """'YYYY-MM-DD HH:MM' in French local time (Chorus Pro histories); stored in UTC."""
    return pa.Field(str_matches=TIMESTAMP_PARIS_RE, real_calendar_date={"fmt": "%Y-%m-%d %H:%M"},
                    metadata={"kind": "timestamp_paris"}, **kw)


def text(**kw):
    return pa.Field(metadata={"kind": "text"}, **kw)


def integer(**kw):
    return pa.Field(metadata={"kind": "int"}, **kw)


def cents(series: pd.Series) -> pd.Series:
    """Money text -> integer cents, so that money rules compare exactly; unparsable -> NA (already
    reported by the format check, so row rules treat NA as passing)."""

    def one(value):
        try:
            return int((Decimal(value) * 100).to_integral_value())
        except (InvalidOperation, TypeError, ValueError):
            return None

    return series.map(one).astype("Int64")


@register_check_method(check_type="vectorized")
def siret_key(series: pd.Series) -> pd.Series:
    """A SIRET whose key is right (INSEE); missing values are the nullable rule's business."""
    return siret_valid(series)


# The four discounts of the framework's price schedule, in the order they apply (cascade).
DISCOUNTS = ["volume_discount_eur", "public_interest_discount_eur", "professional_discount_eur",
             "cumul_mandats_discount_eur"]


def net_equals_gross_minus_discounts(df: pd.DataFrame, discounts: list[str]) -> pd.Series:
    """Net HT = gross HT - the discount columns, to the cent (the waterfall of an order or invoice line)."""
    return (cents(df.gross_ht_eur) - sum(cents(df[c]) for c in discounts) == cents(df.net_ht_eur)).fillna(True)


def ttc_equals_net_plus_vat(df: pd.DataFrame) -> pd.Series:
    """TTC = net HT + VAT, to the cent (unparsable amounts are reported by their own format rule)."""
    return (cents(df.net_ht_eur) + cents(df.vat_eur) == cents(df.net_ttc_eur)).fillna(True)


def luhn_valid(series: pd.Series) -> pd.Series:
    """SIREN/SIRET numbers carry a Luhn key (INSEE)."""

    def ok(value) -> bool:
        if value is None or not isinstance(value, str):
            return True
        if not value.isdigit():
            return False
        total = 0
        for i, ch in enumerate(reversed(value)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        return total % 10 == 0

    return series.map(ok).astype(bool)


# La Poste's establishments (SIREN 356000000), its head office aside, carry no Luhn key: the sum of the
# SIRET's digits is a multiple of 5 instead (INSEE; the rule python-stdnum's stdnum.fr.siret applies).
LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"


def siret_valid(series: pd.Series) -> pd.Series:
    la_poste = series.map(lambda v: isinstance(v, str) and v.startswith(LA_POSTE_SIREN) and v != LA_POSTE_HEAD_OFFICE)
    by_sum = series.map(lambda v: not isinstance(v, str) or (v.isdigit() and sum(map(int, v)) % 5 == 0))
    return (la_poste & by_sum) | (~la_poste & luhn_valid(series))


def column_kinds(model) -> dict[str, str]:
    schema = model.to_schema()
    return {name: (col.metadata or {}).get("kind", "text") for name, col in schema.columns.items()}


def french_number(series: pd.Series) -> pd.Series:
    """'1 234,56' -> '1234.56' (spaces, no-break spaces and the decimal comma of French exports)."""
    return series.str.replace(r"[\s\u00a0\u202f]", "", regex=True).str.replace(",", ".", regex=False)


def _arrow_column(series: pd.Series, kind: str) -> pa_arrow.Array:
    typ = ARROW_TYPES[kind]
    if kind in ("money", "rate"):  # exact: text -> decimal, no float on the way
        return pa_arrow.array(series.astype(object).where(series.notna(), None), type=pa_arrow.string()).cast(typ)
    if kind == "int":
        return pa_arrow.array(series.astype("Int64"), type=typ)
    if kind == "timestamp_iso":
        return pa_arrow.array(pd.to_datetime(series, utc=True, format="ISO8601"), type=typ)
    if kind == "timestamp_paris":
        # the hour repeated when clocks go back is read as winter time (no way to tell them apart)
        local = pd.to_datetime(series, format="%Y-%m-%d %H:%M").dt.tz_localize(
            "Europe/Paris", ambiguous=np.zeros(len(series), dtype=bool), nonexistent="shift_forward")
        return pa_arrow.array(local.dt.tz_convert("UTC"), type=typ)
    if kind in ("date_fr", "date_iso"):
        fmt = "%d/%m/%Y" if kind == "date_fr" else "%Y-%m-%d"
        return pa_arrow.array(pd.to_datetime(series, format=fmt).dt.date, type=typ)
    return pa_arrow.array(series.astype(object).where(series.notna(), None), type=typ)


def to_arrow(df: pd.DataFrame, model, extra: dict[str, pa_arrow.DataType]) -> pa_arrow.Table:
    """Validated frame -> Arrow table with the schema's declared kinds, plus lineage columns."""
    kinds = column_kinds(model)
    fields, arrays = [], []
    for name, kind in kinds.items():
        typ = ARROW_TYPES[kind]
        fields.append(pa_arrow.field(name, typ))
        arrays.append(_arrow_column(df[name], kind))
    for name, typ in extra.items():
        fields.append(pa_arrow.field(name, typ))
        arrays.append(pa_arrow.array(df[name].tolist(), type=typ))
    return pa_arrow.Table.from_arrays(arrays, schema=pa_arrow.schema(fields))


def empty_arrow(model, extra: dict[str, pa_arrow.DataType]) -> pa_arrow.Table:
    schema = pa_arrow.schema(
        [pa_arrow.field(n, ARROW_TYPES[k]) for n, k in column_kinds(model).items()]
        + [pa_arrow.field(n, t) for n, t in extra.items()]
    )
    return schema.empty_table()
