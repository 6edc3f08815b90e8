"""SIG's list of forbidden (withdrawn) campaigns. One row per campaign."""

import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import date_fr, text

HEADERS = {
    "Campagne": "campaign_id",
    "Annonceur": "advertiser_short_name",
    "Interdite depuis le": "forbidden_since_date",
    "Motif": "reason",
}


class ForbiddenCampaignRow(pa.DataFrameModel):
    campaign_id: Series[str] = text(str_matches=r"^CMP-\d{4}-\d{4}$")
    advertiser_short_name: Series[str] = text()
    forbidden_since_date: Series[str] = date_fr()
    reason: Series[str] = text(nullable=True)

    class Config:
        name = "forbidden_campaign"
        strict = True
        coerce = True
        unique = ["campaign_id"]
