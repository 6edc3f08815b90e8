"""Régies' own spreadsheet exports of their invoices (XLSX or French CSV). One row per invoice line.

A convenience copy: when the structured e-invoice of the same supplier and number reached us (Chorus
Pro or the e-invoice inbox), the warehouse counts that one and ignores the export's rows.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import (NET_EQUALS_GROSS_MINUS_DISCOUNTS, TTC_EQUALS_NET_PLUS_VAT, date_fr, integer, money, rate, siret, text)

HEADERS = {
    "N° facture": "invoice_number",
    "Type de document": "document_type",
    "Date de facture": "issue_date",
    "SIRET régie": "supplier_siret",
    "N° BDC": "purchase_order_ref",
    "N° ligne BDC": "order_line_number",
    "Désignation": "description",
    "Quantité": "quantity",
    "Prix unitaire brut": "unit_gross_price_eur",
    "Base de prix": "price_base_quantity",
    "Montant brut HT": "gross_ht_eur",
    "Remise dégressif": "volume_discount_eur",
    "Abattement intérêt général": "public_interest_discount_eur",
    "Remise professionnelle": "professional_discount_eur",
    "Cumul des mandats": "cumul_mandats_discount_eur",
    "Montant net HT": "net_ht_eur",
    "Taux de TVA": "vat_rate_pct",
    "Montant TVA": "vat_eur",
    "Montant TTC": "net_ttc_eur",
    "Facture d'origine": "preceding_invoices",
}
OPTIONAL = {"order_line_number", "preceding_invoices", "description"}


class InvoiceExportRow(pa.DataFrameModel):
    invoice_number: Series[str] = text()
    document_type: Series[str] = text(isin=["Facture", "Avoir"])
    issue_date: Series[str] = date_fr()
    supplier_siret: Series[str] = siret()
    purchase_order_ref: Series[str] = text(nullable=True)
    order_line_number: Series[pd.Int64Dtype] = integer(ge=1, le=999, nullable=True)
    description: Series[str] = text(nullable=True)
    quantity: Series[pd.Int64Dtype] = integer(ge=0)
    unit_gross_price_eur: Series[str] = money()
    price_base_quantity: Series[pd.Int64Dtype] = integer(isin=[1, 1000])
    gross_ht_eur: Series[str] = money()
    volume_discount_eur: Series[str] = money()
    public_interest_discount_eur: Series[str] = money()
    professional_discount_eur: Series[str] = money()
    cumul_mandats_discount_eur: Series[str] = money()
    net_ht_eur: Series[str] = money()
    vat_rate_pct: Series[str] = rate()
    vat_eur: Series[str] = money()
    net_ttc_eur: Series[str] = money()
    preceding_invoices: Series[str] = text(nullable=True)

    class Config:
        name = "invoice_export_line"
        strict = True
        coerce = True
        # row rules: SQL over the typed columns, broken when false (a NULL operand: the column's own rule)
        metadata = {"row_rules": {
            "net_equals_gross_minus_discounts": NET_EQUALS_GROSS_MINUS_DISCOUNTS,
            "ttc_equals_net_plus_vat": TTC_EQUALS_NET_PLUS_VAT,
        }}
