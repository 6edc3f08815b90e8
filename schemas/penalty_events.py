"""Penalty events recorded by the coordinator (SIG) on purchase orders (CCAP 11.11): poor-execution
breaches with their level, and force-majeure (or advertiser-fault) waivers of late-delivery penalties.
One row per event."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import date_fr, integer, text

HEADERS = {
    "Référence commande": "purchase_order_id",
    "Date": "event_date",
    "Type d'événement": "event_type",
    "Niveau": "level",
    "Motif": "reason",
}
OPTIONAL = {"level", "reason"}
EVENT_TYPES = ["mauvaise_execution", "force_majeure", "faute_annonceur"]


class PenaltyEventRow(pa.DataFrameModel):
    purchase_order_id: Series[str] = text(str_matches=r"^\d{10}$")
    event_date: Series[str] = date_fr()
    event_type: Series[str] = text(isin=EVENT_TYPES)
    level: Series[pd.Int64Dtype] = integer(isin=[1, 2, 3], nullable=True)
    reason: Series[str] = text(nullable=True)

    class Config:
        name = "penalty_event"
        strict = True
        coerce = True
        # row rules: SQL over the typed columns, broken when false (a NULL operand: the column's own rule)
        metadata = {"row_rules": {
            "poor_execution_has_a_level": "event_type <> 'mauvaise_execution' or level is not null",
        }}
