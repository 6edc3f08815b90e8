"""Régie campaign reports (bilans de campagne) for offline media. One row per order line x day."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import date_fr, integer, money, text

HEADERS = {
    "Référence ordre": "order_line_ref",
    "Campagne": "campaign_name",
    "Support": "media_seller_name",
    "Date de diffusion": "delivery_date",
    "Type d'unité": "unit_label",
    "Quantité diffusée": "delivered_quantity",
    "Montant net HT": "net_ht_eur",
}


class RegieReportRow(pa.DataFrameModel):
    order_line_ref: Series[str] = text(str_matches=r"^\d{10}-\d{3}$")
    campaign_name: Series[str] = text()
    media_seller_name: Series[str] = text()
    delivery_date: Series[str] = date_fr()
    unit_label: Series[str] = text(isin=["Spot", "Insertion", "Face", "Séance"])
    delivered_quantity: Series[pd.Int64Dtype] = integer(gt=0)
    net_ht_eur: Series[str] = money()

    class Config:
        name = "regie_report_line"
        strict = True
        coerce = True
        unique = ["order_line_ref", "delivery_date"]
