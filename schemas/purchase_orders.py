"""Purchase orders (bons de commande, BDC) from the agency's export. One row per purchase order."""

import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import TTC_EQUALS_NET_PLUS_VAT, date_fr, money, rate, siret, text

HEADERS = {
    "N° BDC": "purchase_order_id",
    "Date du BDC": "order_date",
    "Annonceur": "advertiser_name",
    "SIRET annonceur": "advertiser_siret",
    "Code service Chorus": "chorus_service_code",
    "Campagne": "campaign_id",
    "Libellé campagne": "campaign_name",
    "Code UO": "uo_code",
    "Montant brut HT": "gross_ht_eur",
    "Montant net HT": "net_ht_eur",
    "TVA": "vat_eur",
    "Montant TTC": "net_ttc_eur",
    "Taux honoraires": "fee_rate_pct",
    "Montant honoraires HT": "fee_ht_eur",
    "Date de début": "start_date",
    "Date de fin": "end_date",
}


class PurchaseOrderRow(pa.DataFrameModel):
    purchase_order_id: Series[str] = text(str_matches=r"^\d{10}$")
    order_date: Series[str] = date_fr()
    advertiser_name: Series[str] = text()
    advertiser_siret: Series[str] = siret()
    chorus_service_code: Series[str] = text()
    campaign_id: Series[str] = text(str_matches=r"^CMP-\d{4}-\d{4}$")
    campaign_name: Series[str] = text()
    uo_code: Series[str] = text(str_matches=r"^\d{2}(-\d{2}){0,2}$")
    gross_ht_eur: Series[str] = money()
    net_ht_eur: Series[str] = money()
    vat_eur: Series[str] = money()
    net_ttc_eur: Series[str] = money()
    fee_rate_pct: Series[str] = rate()
    fee_ht_eur: Series[str] = money()
    start_date: Series[str] = date_fr()
    end_date: Series[str] = date_fr()

    class Config:
        name = "purchase_order"
        strict = True
        coerce = True
        unique = ["purchase_order_id"]
        # row rules: SQL over the typed columns, broken when false (a NULL operand: the column's own rule)
        metadata = {"row_rules": {
            "ttc_equals_net_plus_vat": TTC_EQUALS_NET_PLUS_VAT,
            "net_not_above_gross": "net_ht_eur <= gross_ht_eur",
        }}
