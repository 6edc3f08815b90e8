"""Ad-server delivery, Campaign Manager 360 report layout. One row per placement x creative x day."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas._columns import date_iso, integer, money, text

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
CONVERSION_COLUMNS = {"total_conversions", "click_through_conversions", "view_through_conversions",
                      "total_revenue_eur", "click_through_revenue_eur", "view_through_revenue_eur",
                      "video_plays", "video_completions"}
OPTIONAL = {"order_line_ref", "viewable_impressions", "creative_pixel_size"} | CONVERSION_COLUMNS


class AdServerDeliveryRow(pa.DataFrameModel):
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
    total_conversions: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    click_through_conversions: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    view_through_conversions: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    total_revenue_eur: Series[str] = money(nullable=True)
    click_through_revenue_eur: Series[str] = money(nullable=True)
    view_through_revenue_eur: Series[str] = money(nullable=True)
    video_plays: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    video_completions: Series[pd.Int64Dtype] = integer(ge=0, nullable=True)
    creative_pixel_size: Series[str] = text(nullable=True)

    class Config:
        name = "ad_server_delivery"
        strict = True
        coerce = True
        unique = ["delivery_date", "placement_id", "creative_id"]
        # row rules: SQL over the typed columns, broken when false (a NULL operand: the column's own rule)
        metadata = {"row_rules": {
            "viewable_not_above_impressions": "viewable_impressions <= impressions",
            "total_conversions_are_click_plus_view":
                "total_conversions = click_through_conversions + view_through_conversions",
            "total_revenue_is_click_plus_view":
                "total_revenue_eur = click_through_revenue_eur + view_through_revenue_eur",
            "completions_not_above_plays": "video_completions <= video_plays",
        }}
