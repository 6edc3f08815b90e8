"""E-mail router statistics per campaign, ISP domain and day (field names as Mailjet's per-ESP stats)."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import date_iso, integer, text

HEADERS = {
    "Date": "send_date",
    "CampaignID": "router_campaign_id",
    "CustomCampaign": "order_line_ref",
    "ESPName": "isp_domain",
    "AttemptedMessagesCount": "attempted_count",
    "DeliveredMessagesCount": "delivered_count",
    "SoftBouncedMessagesCount": "soft_bounced_count",
    "HardBouncedMessagesCount": "hard_bounced_count",
    "BlockedMessagesCount": "blocked_count",
    "SpamReportsCount": "spam_report_count",
    "OpenedMessagesCount": "opened_count",
    "ClickedMessagesCount": "clicked_count",
}
COUNTS = ["attempted_count", "delivered_count", "soft_bounced_count", "hard_bounced_count",
          "blocked_count", "spam_report_count", "opened_count", "clicked_count"]


class EmailDeliverabilityRow(pa.DataFrameModel):
    send_date: Series[str] = date_iso()
    router_campaign_id: Series[str] = text(str_matches=r"^\d+$")
    order_line_ref: Series[str] = text(str_matches=r"^\d{10}-\d{3}$")
    isp_domain: Series[str] = text(str_matches=r"^[a-z0-9.-]+\.[a-z]{2,}$")
    attempted_count: Series[pd.Int64Dtype] = integer(ge=0)
    delivered_count: Series[pd.Int64Dtype] = integer(ge=0)
    soft_bounced_count: Series[pd.Int64Dtype] = integer(ge=0)
    hard_bounced_count: Series[pd.Int64Dtype] = integer(ge=0)
    blocked_count: Series[pd.Int64Dtype] = integer(ge=0)
    spam_report_count: Series[pd.Int64Dtype] = integer(ge=0)
    opened_count: Series[pd.Int64Dtype] = integer(ge=0)
    clicked_count: Series[pd.Int64Dtype] = integer(ge=0)

    class Config:
        name = "email_deliverability"
        strict = True
        coerce = True
        unique = ["send_date", "order_line_ref", "isp_domain"]
        # row rules: SQL over the typed columns, broken when false (a NULL operand: the column's own rule)
        metadata = {"row_rules": {
            "attempted_equals_delivered_plus_failures": "attempted_count = delivered_count + soft_bounced_count + hard_bounced_count + blocked_count",
        }}
