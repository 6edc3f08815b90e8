-- Ad-server results of each order line and day, conversions attributed by the line's attribution model.
-- Rule (the one place it lives): under `last_click` only click-through conversions and revenue count;
-- under `post_impression` (and when the line states no model: CM360's own total) click-through and
-- view-through both count. Rows where the report carries no conversions (no Floodlight, or only a total
-- when the model needs click-through alone) are not measured: their cost and clicks are left out of the
-- conversion bases, as unmeasured viewability is left out of viewability. A report re-sent for the same
-- placement, creative and day replaces the earlier one (int_ad_server_deliveries_deduplicated).
-- Attribution window (the line's attribution_window_days), as far as daily aggregates allow: CM360 reports
-- a conversion on the day it happens and has already applied its own Floodlight lookback, so a conversion
-- cannot be traced to its exposure; but one reported more than the window's days after the line's last
-- day with impressions cannot follow any of its exposures within the window: it does not count
-- (conversions and revenue 0, conversions_beyond_window says how many the model would have counted).
-- Within the flight plus the window, CM360's lookback stands (docs/input_formats.md).
with

ad_server_latest as (
    select
        delivery_date,
        placement_id,
        creative_id,
        order_line_ref,
        impressions,
        clicks,
        viewable_impressions,
        media_cost_eur,
        total_conversions,
        click_through_conversions,
        view_through_conversions,
        total_revenue_eur,
        click_through_revenue_eur,
        view_through_revenue_eur,
        video_plays,
        video_completions,
        source_file_sha256,
        source_line
    from {{ ref('int_ad_server_deliveries_deduplicated') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

attributed as (
    select
        ad_server_latest.*,
        order_lines.order_line_id,
        order_lines.campaign_id,
        order_lines.advertiser_id,
        order_lines.media_type,
        order_lines.pricing_basis,
        coalesce(order_lines.attribution_model, 'post_impression') as attribution_model,
        order_lines.attribution_window_days,
        {{ counted_by_attribution_model('order_lines.attribution_model', 'ad_server_latest', 'conversions') }}
            as model_conversions,
        {{ counted_by_attribution_model('order_lines.attribution_model', 'ad_server_latest', 'revenue_eur') }}
            as model_revenue_eur,
        max(case when ad_server_latest.impressions > 0 then ad_server_latest.delivery_date end)
            over (partition by order_lines.order_line_id)
            as last_exposure_date
    from ad_server_latest
    inner join order_lines
        on ad_server_latest.order_line_ref = order_lines.order_line_id
),

windowed as (
    select
        attributed.*,
        coalesce(
            {{ dbt.datediff('attributed.last_exposure_date', 'attributed.delivery_date', 'day') }}
            > attributed.attribution_window_days,
            false
        ) as is_beyond_window
    from attributed
),

counted as (
    select
        windowed.*,
        -- a row not measuring them stays unmeasured (null) either way
        case
            when not windowed.is_beyond_window then windowed.model_conversions
            when windowed.model_conversions is not null then 0
        end as attributed_conversions,
        case
            when not windowed.is_beyond_window then windowed.model_revenue_eur
            when windowed.model_revenue_eur is not null then 0
        end as attributed_revenue_eur,
        case when windowed.is_beyond_window then windowed.model_conversions else 0 end as beyond_window_conversions
    from windowed
),

final as (
    select
        {{ dbt.concat([
            "order_line_id", "'|'", "cast(delivery_date as " ~ dbt.type_string() ~ ")"
        ]) }} as result_day_key,
        order_line_id,
        campaign_id,
        advertiser_id,
        media_type,
        pricing_basis,
        attribution_model,
        delivery_date,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks,
        cast(sum(case when viewable_impressions is not null then impressions end) as bigint)
            as measurable_impressions,
        cast(sum(viewable_impressions) as bigint) as viewable_impressions,
        cast(sum(media_cost_eur) as decimal(18, 2)) as cost_eur,
        cast(sum(click_through_conversions) as bigint) as click_through_conversions,
        cast(sum(view_through_conversions) as bigint) as view_through_conversions,
        cast(sum(attributed_conversions) as bigint) as conversions,
        cast(sum(case when model_conversions is not null then beyond_window_conversions end) as bigint)
            as conversions_beyond_window,
        cast(sum(case when attributed_conversions is not null then media_cost_eur end) as decimal(18, 2))
            as conversions_measured_cost_eur,
        cast(sum(case when attributed_conversions is not null then clicks end) as bigint)
            as conversions_measured_clicks,
        cast(sum(attributed_revenue_eur) as decimal(18, 2)) as revenue_eur,
        cast(sum(case when attributed_revenue_eur is not null then media_cost_eur end) as decimal(18, 2))
            as revenue_measured_cost_eur,
        cast(sum(video_plays) as bigint) as video_plays,
        cast(sum(case when video_plays is not null then video_completions end) as bigint) as video_completions
    from counted
    group by
        order_line_id,
        campaign_id,
        advertiser_id,
        media_type,
        pricing_basis,
        attribution_model,
        delivery_date
)

select * from final
