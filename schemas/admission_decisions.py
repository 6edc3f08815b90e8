"""The advertiser's decisions after checking an order (CCAP 11.10.2-11.10.3, CCAG-FCS art. 30):
admission, ajournement, réfaction (admitted with a price reduction) or rejet. One row per decision; a
later decision on the same order supersedes an earlier one, and both are kept."""

import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import money, text, timestamp_paris

HEADERS = {
    "N° BDC": "purchase_order_id",
    "Décision": "decision",
    "Montant réfaction": "refaction_eur",
    "Motif": "reason",
    "Décidé par": "decided_by",
    "Décidé le": "decided_at",
}
OPTIONAL = {"refaction_eur", "reason"}
# as the advertiser writes them; staging stores réfaction as the code `refaction`
DECISIONS = ["admission", "ajournement", "réfaction", "refaction", "rejet"]


class AdmissionDecisionRow(pa.DataFrameModel):
    purchase_order_id: Series[str] = text(str_matches=r"^\d{10}$")
    decision: Series[str] = text(isin=DECISIONS)
    refaction_eur: Series[str] = money(nullable=True)
    reason: Series[str] = text(nullable=True)
    decided_by: Series[str] = text()
    decided_at: Series[str] = timestamp_paris()

    class Config:
        name = "admission_decision"
        strict = True
        coerce = True
        unique = ["purchase_order_id", "decided_at"]
        # row rules: SQL over the typed columns, broken when false (a NULL operand: the column's own rule)
        metadata = {"row_rules": {
            # a réfaction states its amount, and only a réfaction has one
            "refaction_has_a_positive_amount": "(decision in ('réfaction', 'refaction'))"
                                               " = (refaction_eur is not null and refaction_eur > 0)",
            # CCAP 11.10.2: every réfaction or rejet must be motivated
            "refaction_or_rejection_is_motivated": "decision not in ('réfaction', 'refaction', 'rejet')"
                                                   " or reason is not null",
        }}
