"""Purchase-order lines from the agency's export. One row per order line (BDC number + line number)."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import (NET_EQUALS_GROSS_MINUS_DISCOUNTS, TTC_EQUALS_NET_PLUS_VAT, date_fr, integer, money, rate, siret, text)

HEADERS = {
    "N° BDC": "purchase_order_id",
    "N° ligne": "line_number",
    "Régie": "media_seller_name",
    "SIRET régie": "media_seller_siret",
    "Type de média": "media_type",
    "Code UO": "uo_code",
    "Unité d'achat": "buying_unit",
    "Base tarifaire": "pricing_basis",
    "Quantité commandée": "ordered_quantity",
    "Prix unitaire brut": "unit_gross_price_eur",
    "Montant brut HT": "gross_ht_eur",
    "Remise dégressif": "volume_discount_eur",
    "Abattement intérêt général": "public_interest_discount_eur",
    "Remise professionnelle": "professional_discount_eur",
    "Cumul des mandats": "cumul_mandats_discount_eur",
    "Montant net HT": "net_ht_eur",
    "TVA": "vat_eur",
    "Montant TTC": "net_ttc_eur",
    "Taux honoraires": "fee_rate_pct",
    "Date de début": "start_date",
    "Date de fin": "end_date",
    # the line's objectives (the order's expected performance), optional: docs/input_formats.md
    "Objectif volume": "target_volume",
    "Objectif CPM": "target_cpm_eur",
    "Objectif CPC": "target_cpc_eur",
    "Objectif CPA": "target_cpa_eur",
    "Objectif CTR (%)": "target_ctr_pct",
    "Objectif taux de complétion (%)": "target_completion_rate_pct",
    "Modèle d'attribution": "attribution_model",
    "Fenêtre d'attribution (jours)": "attribution_window_days",
}
OBJECTIVE_COLUMNS = {"target_volume", "target_cpm_eur", "target_cpc_eur", "target_cpa_eur", "target_ctr_pct",
                     "target_completion_rate_pct", "attribution_model", "attribution_window_days"}
OPTIONAL = OBJECTIVE_COLUMNS
# dernier clic: click-through conversions only; post-impression: click-through and view-through
ATTRIBUTION_MODELS = ["dernier_clic", "post_impression"]

MEDIA_TYPES = ["tv", "radio", "press", "outdoor", "cinema", "digital_display", "digital_video",
               "social", "search", "email"]


class OrderLineRow(pa.DataFrameModel):
    purchase_order_id: Series[str] = text(str_matches=r"^\d{10}$")
    line_number: Series[pd.Int64Dtype] = integer(ge=1, le=999)
    media_seller_name: Series[str] = text()
    media_seller_siret: Series[str] = siret()
    media_type: Series[str] = text(isin=MEDIA_TYPES)
    uo_code: Series[str] = text(str_matches=r"^\d{2}(-\d{2}){0,2}$")
    buying_unit: Series[str] = text(isin=["spot", "insertion", "face", "screening", "impression",
                                          "click", "email"])
    pricing_basis: Series[str] = text(isin=["unit", "cpm", "cpc"])
    ordered_quantity: Series[pd.Int64Dtype] = integer(gt=0)
    unit_gross_price_eur: Series[str] = money()
    gross_ht_eur: Series[str] = money()
    volume_discount_eur: Series[str] = money()
    public_interest_discount_eur: Series[str] = money()
    professional_discount_eur: Series[str] = money()
    cumul_mandats_discount_eur: Series[str] = money()
    net_ht_eur: Series[str] = money()
    vat_eur: Series[str] = money()
    net_ttc_eur: Series[str] = money()
    fee_rate_pct: Series[str] = rate()
    start_date: Series[str] = date_fr()
    end_date: Series[str] = date_fr()
    target_volume: Series[pd.Int64Dtype] = integer(gt=0, nullable=True)
    target_cpm_eur: Series[str] = rate(nullable=True)
    target_cpc_eur: Series[str] = rate(nullable=True)
    target_cpa_eur: Series[str] = rate(nullable=True)
    target_ctr_pct: Series[str] = rate(nullable=True)
    target_completion_rate_pct: Series[str] = rate(nullable=True)
    attribution_model: Series[str] = text(isin=ATTRIBUTION_MODELS, nullable=True)
    attribution_window_days: Series[pd.Int64Dtype] = integer(ge=1, le=90, nullable=True)

    class Config:
        name = "order_line"
        strict = True
        coerce = True
        unique = ["purchase_order_id", "line_number"]
        # row rules: SQL over the typed columns, broken when false (a NULL operand: the column's own rule)
        metadata = {"row_rules": {
            "net_equals_gross_minus_discounts": NET_EQUALS_GROSS_MINUS_DISCOUNTS,
            "ttc_equals_net_plus_vat": TTC_EQUALS_NET_PLUS_VAT,
            "end_not_before_start": "end_date >= start_date",
            "targets_are_positive": "coalesce(target_cpm_eur, 1) > 0 and coalesce(target_cpc_eur, 1) > 0"
                                    " and coalesce(target_cpa_eur, 1) > 0 and coalesce(target_ctr_pct, 1) > 0"
                                    " and coalesce(target_completion_rate_pct, 1) > 0",
            "rate_targets_at_most_100_pct": "coalesce(target_ctr_pct, 0) <= 100"
                                            " and coalesce(target_completion_rate_pct, 0) <= 100",
        }}
