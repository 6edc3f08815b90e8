-- Ad-server results of each order line and day, conversions attributed by the line's attribution model.
-- Rule (the one place it lives): under `last_click` only click-through conversions and revenue count;
-- under `post_impression` (and when the line states no model: CM360's own total) click-through and
-- view-through both count. Rows where the report carries no conversions (no Floodlight, or only a total
-- when the model needs click-through alone) are not measured: their cost and clicks are left out of the
-- conversion bases, as unmeasured viewability is left out of viewability. A report re-sent for the same
-- placement, creative and day replaces the earlier one.
{#- the columns used below, read by each of keep_one_version's three reads -#}
{%- set ad_server_rows -%}
    (
        select
            delivery_date, placement_id, creative_id, order_line_ref, impressions, clicks, viewable_impressions,
            media_cost_eur, total_conversions, click_through_conversions, view_through_conversions,
            total_revenue_eur, click_through_revenue_eur, view_through_revenue_eur, video_plays,
            video_completions, received_at, source_file_sha256, source_line
        from {{ ref('stg_ad_server__deliveries') }}
    )
{%- endset %}

with

ad_server_latest as (
    {{ keep_one_version(ad_server_rows, ['delivery_date', 'placement_id', 'creative_id'], repeats_only=true) }}
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
        case
            when order_lines.attribution_model = 'last_click' then ad_server_latest.click_through_conversions
            else ad_server_latest.total_conversions
        end as attributed_conversions,
        case
            when order_lines.attribution_model = 'last_click' then ad_server_latest.click_through_revenue_eur
            else ad_server_latest.total_revenue_eur
        end as attributed_revenue_eur
    from ad_server_latest
    inner join order_lines
        on ad_server_latest.order_line_ref = order_lines.order_line_id
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
        cast(sum(case when attributed_conversions is not null then media_cost_eur end) as decimal(18, 2))
            as conversions_measured_cost_eur,
        cast(sum(case when attributed_conversions is not null then clicks end) as bigint)
            as conversions_measured_clicks,
        cast(sum(attributed_revenue_eur) as decimal(18, 2)) as revenue_eur,
        cast(sum(case when attributed_revenue_eur is not null then media_cost_eur end) as decimal(18, 2))
            as revenue_measured_cost_eur,
        cast(sum(video_plays) as bigint) as video_plays,
        cast(sum(case when video_plays is not null then video_completions end) as bigint) as video_completions
    from attributed
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
