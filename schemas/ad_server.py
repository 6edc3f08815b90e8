"""Ad-server delivery, Campaign Manager 360 report layout. One row per placement x creative x day."""

import pandas as pd
from pandera.typing import Series

from schemas._columns import RESULT_COLUMNS, RESULT_ROW_RULES, ResultColumns, date_iso, integer, money, text

# CM360 writes UI labels, not API names (dfa:placementExternalId -> "Placement External ID").
HEADERS = {
    "Date": "delivery_date",
    "Advertiser": "advertiser_name",
    "Advertiser ID": "cm360_advertiser_id",
    "Campaign": "campaign_name",
    "Campaign External ID": "campaign_id",
    "Placement": "placement_name",
    "Placement ID": "placement_id",
    "Placement External ID": "order_line_ref",
    "Site (CM360)": "site_name",
    "Creative": "creative_name",
    "Creative ID": "creative_id",
    "Impressions": "impressions",
    "Clicks": "clicks",
    "Active View: Viewable Impressions": "viewable_impressions",
    "Media Cost": "media_cost_eur",
    # Floodlight conversions and rich-media video metrics, as CM360 labels them; reports of advertisers
    # without Floodlight (or without video) do not carry them (docs/input_formats.md)
    "Total Conversions": "total_conversions",
    "Click-through Conversions": "click_through_conversions",
    "View-through Conversions": "view_through_conversions",
    "Total Revenue": "total_revenue_eur",
    "Click-through Revenue": "click_through_revenue_eur",
    "View-through Revenue": "view_through_revenue_eur",
    "Video Plays": "video_plays",
    "Video Completions": "video_completions",
    # the creative's format (decree 2017-159, 1° c), as CM360 names the dimension: 300x250, 1x1 for video...
    "Creative Pixel Size": "creative_pixel_size",
}
CONVERSION_COLUMNS = set(RESULT_COLUMNS)
OPTIONAL = {"order_line_ref", "viewable_impressions", "creative_pixel_size"} | CONVERSION_COLUMNS


class AdServerDeliveryRow(ResultColumns):  # the optional result columns first
    delivery_date: Series[str] = date_iso()
    advertiser_name: Series[str] = text()
    cm360_advertiser_id: Series[str] = text(str_matches=r"^\d+$")
    campaign_name: Series[str] = text()
    campaign_id: Series[str] = text(nullable=True)
    placement_name: Series[str] = text()
    placement_id: Series[str] = text(str_matches=r"^\d+$")
    order_line_ref: Series[str] = text(nullable=True)
    site_name: Series[str] = text()
    creative_name: Series[str] = text()
    creative_id: Series[str] = text(str_matches=r"^\d+$")
    impressions: Series[pd.Int64Dtype] = integer(ge=0)
    clicks: Series[pd.Int64Dtype] = integer(ge=0)
    viewable_impressions: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    media_cost_eur: Series[str] = money(nullable=True)
    creative_pixel_size: Series[str] = text(nullable=True)

    class Config:
        name = "ad_server_delivery"
        strict = True
        coerce = True
        unique = ["delivery_date", "placement_id", "creative_id"]
        # row rules: SQL over the typed columns, broken when false (a NULL operand: the column's own rule)
        metadata = {"row_rules": {
            "viewable_not_above_impressions": "viewable_impressions <= impressions",
            **RESULT_ROW_RULES,
        }}
