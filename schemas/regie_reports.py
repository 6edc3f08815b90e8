"""Régie campaign reports (bilans de campagne) for offline media. One row per order line x day.

A régie that measures results (a TV régie's post-campaign study, a cinema's or a digital seller's own
count) may add them at the end of the bilan, in French, under the names of CM360's columns (#19); a bilan
without them is valid as before (docs/input_formats.md). The ad server's count, the State's own, comes
first: a régie's declaration only fills what the ad server does not measure (int_order_line_results_sourced).
"""

import pandas as pd
from pandera.typing import Series

from schemas._columns import RESULT_COLUMNS, RESULT_ROW_RULES, ResultColumns, date_fr, integer, money, text

HEADERS = {
    "Référence ordre": "order_line_ref",
    "Campagne": "campaign_name",
    "Support": "media_seller_name",
    "Date de diffusion": "delivery_date",
    "Type d'unité": "unit_label",
    "Quantité diffusée": "delivered_quantity",
    "Montant net HT": "net_ht_eur",
    # results the régie declares, when it measures them (optional)
    "Conversions": "total_conversions",
    "Conversions post-clic": "click_through_conversions",
    "Conversions post-impression": "view_through_conversions",
    "Chiffre d'affaires HT": "total_revenue_eur",
    "Chiffre d'affaires post-clic HT": "click_through_revenue_eur",
    "Chiffre d'affaires post-impression HT": "view_through_revenue_eur",
    "Vidéos lancées": "video_plays",
    "Vidéos vues en entier": "video_completions",
}
OPTIONAL = set(RESULT_COLUMNS)


class RegieReportRow(ResultColumns):  # the optional result columns first
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
        metadata = {"row_rules": RESULT_ROW_RULES}
