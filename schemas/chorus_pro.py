"""Chorus Pro answers, validated at the door: invoice headers (from rechercherFactureParRecipiendaire
pages) and status events (from consulterHistoriqueFacture). Field names as the API writes them are
mapped to English once, here."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import date_iso, integer, money, text, timestamp_iso, timestamp_paris

INVOICE_FIELDS = {
    "idFacture": "invoice_id",
    "numeroFacture": "invoice_number",
    "typeFacture": "invoice_type",
    "statut": "current_status",
    "dateFacture": "invoice_date",
    "dateDepot": "deposit_date",
    "dateHeureEtatCourant": "current_status_at",
    "montantHT": "amount_ht_eur",
    "montantTVA": "vat_eur",
    "montantTTC": "amount_ttc_eur",
    "montantAPayer": "amount_payable_eur",
    "devise": "currency",
    "codeFournisseur": "supplier_id",
    "typeIdentifiantFournisseur": "supplier_id_type",
    "designationFournisseur": "supplier_name",
    "codeDestinataire": "recipient_siret",
    "idDestinataire": "recipient_structure_id",
    "codeServiceExecutant": "service_code",
    "numeroBonCommande": "purchase_order_ref",
    "numeroMarche": "contract_number",
}
STATUS_EVENT_FIELDS = {
    "histoStatutId": "status_event_id",
    "idFacture": "invoice_id",
    "histoStatutCode": "status_code",
    "histoStatutDatePassage": "status_at",
    "histoStatutCommentaire": "status_comment",
}
# Statuses of a recipient's invoice (shared/reference/chorus_pro_api.md §4); an unknown one is quarantined.
STATUSES = [
    "BROUILLON", "DEPOSEE", "EN_COURS_ACHEMINEMENT", "MISE_A_DISPOSITION", "A_RECYCLER", "SUSPENDUE",
    "COMPLETEE", "REJETEE", "SERVICE_FAIT", "MANDATEE", "MISE_A_DISPOSITION_COMPTABLE", "COMPTABILISEE",
    "MISE_EN_PAIEMENT", "PRISE_EN_COMPTE_DESTINATAIRE", "ABANDONNEE", "SUPPRIMEE",
]


class ChorusInvoiceRow(pa.DataFrameModel):
    invoice_id: Series[pd.Int64Dtype] = integer(gt=0)
    invoice_number: Series[str] = text()
    invoice_type: Series[str] = text(isin=["FACTURE", "AVOIR", "ACOMPTE"])
    current_status: Series[str] = text(isin=STATUSES)
    invoice_date: Series[str] = date_iso()
    deposit_date: Series[str] = date_iso()
    current_status_at: Series[str] = timestamp_iso()
    amount_ht_eur: Series[str] = money()
    vat_eur: Series[str] = money(nullable=True)
    amount_ttc_eur: Series[str] = money()
    amount_payable_eur: Series[str] = money(nullable=True)
    currency: Series[str] = text(isin=["EUR"])
    supplier_id: Series[str] = text()
    supplier_id_type: Series[str] = text(nullable=True)
    supplier_name: Series[str] = text(nullable=True)
    recipient_siret: Series[str] = text(str_matches=r"^\d{14}$")
    recipient_structure_id: Series[pd.Int64Dtype] = integer(nullable=True)
    service_code: Series[str] = text(nullable=True)
    purchase_order_ref: Series[str] = text(nullable=True)
    contract_number: Series[str] = text(nullable=True)

    class Config:
        name = "chorus_invoice"
        strict = True
        coerce = True
        unique = ["invoice_id"]


class ChorusStatusEventRow(pa.DataFrameModel):
    status_event_id: Series[pd.Int64Dtype] = integer(gt=0)
    invoice_id: Series[pd.Int64Dtype] = integer(gt=0)
    status_code: Series[str] = text(isin=STATUSES)
    status_at: Series[str] = timestamp_paris()
    status_comment: Series[str] = text(nullable=True)

    class Config:
        name = "chorus_status_event"
        strict = True
        coerce = True
        unique = ["status_event_id"]
