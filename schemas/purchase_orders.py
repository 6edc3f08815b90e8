"""Purchase orders (bons de commande, BDC) from the agency's export. One row per purchase order."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import cents, date_fr, money, rate, text, ttc_equals_net_plus_vat

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
    advertiser_siret: Series[str] = text(str_matches=r"^\d{14}$", siret_key=())
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

    @pa.dataframe_check(name="ttc_equals_net_plus_vat")
    def _ttc(cls, df: pd.DataFrame) -> Series[bool]:
        return ttc_equals_net_plus_vat(df)

    @pa.dataframe_check(name="net_not_above_gross")
    def _net(cls, df: pd.DataFrame) -> Series[bool]:
        return (cents(df.net_ht_eur) <= cents(df.gross_ht_eur)).fillna(True)

