-- Results of each order line and day from the sources that count them: the ad server, then the régie.
-- Rule (the one place it lives): the ad server is the State's own measurement. Its rows stand whole
-- (int_ad_server_results_attributed). A régie's bilan (latest version of each line and day) fills only
-- what the ad server does not measure for the line: conversions when no ad-server row of the line
-- measures them, revenue likewise, video plays and completions likewise; a family the ad server measures
-- on any day of the line is the ad server's for the whole line (no mixing of two counts of one thing).
-- A régie row carries no impressions, clicks or cost (the ad server's counts), its conversions and
-- revenue counted by the line's attribution model as the ad server's are (last_click: click-through
-- only, a declared total alone is not measured), its net as the cost base of what it declares, and is
-- kept only when it fills something. The attribution window cannot be checked on a bilan (one row per
-- diffusion day, the régie's own attribution): conversions_beyond_window is null on its rows.
with

ad_server as (
    select * from {{ ref('int_ad_server_results_attributed') }}
),

regie_latest as (
    {{ keep_one_version(ref('stg_regie__report_lines'), ['order_line_ref', 'delivery_date']) }}
),

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

-- what the ad server measures of each line
ad_server_measured as (
    select
        order_line_id,
        max(case when conversions is not null then 1 else 0 end) as measures_conversions,
        max(case when revenue_eur is not null then 1 else 0 end) as measures_revenue,
        max(case when video_plays is not null then 1 else 0 end) as measures_video
    from ad_server
    group by order_line_id
),

regie_attributed as (
    select
        order_lines.order_line_id,
        order_lines.campaign_id,
        order_lines.advertiser_id,
        order_lines.media_type,
        order_lines.pricing_basis,
        coalesce(order_lines.attribution_model, 'post_impression') as attribution_model,
        regie_latest.delivery_date,
        regie_latest.net_ht_eur,
        coalesce(ad_server_measured.measures_conversions, 0) = 0 as fills_conversions,
        coalesce(ad_server_measured.measures_revenue, 0) = 0 as fills_revenue,
        coalesce(ad_server_measured.measures_video, 0) = 0 as fills_video,
        regie_latest.click_through_conversions,
        regie_latest.view_through_conversions,
        {{ counted_by_attribution_model('order_lines.attribution_model', 'regie_latest', 'conversions') }}
            as attributed_conversions,
        {{ counted_by_attribution_model('order_lines.attribution_model', 'regie_latest', 'revenue_eur') }}
            as attributed_revenue_eur,
        regie_latest.video_plays,
        regie_latest.video_completions
    from regie_latest
    inner join order_lines
        on regie_latest.order_line_ref = order_lines.order_line_id
    left join ad_server_measured
        on order_lines.order_line_id = ad_server_measured.order_line_id
),

regie_results as (
    select
        {{ dbt.concat([
            "order_line_id", "'|'", "cast(delivery_date as " ~ dbt.type_string() ~ ")", "'|regie'"
        ]) }} as result_key,
        'regie' as results_source,
        order_line_id,
        campaign_id,
        advertiser_id,
        media_type,
        pricing_basis,
        attribution_model,
        delivery_date,
        cast(null as bigint) as impressions,
        cast(null as bigint) as clicks,
        cast(null as bigint) as measurable_impressions,
        cast(null as bigint) as viewable_impressions,
        cast(null as decimal(18, 2)) as cost_eur,
        cast(case when fills_conversions then click_through_conversions end as bigint) as click_through_conversions,
        cast(case when fills_conversions then view_through_conversions end as bigint) as view_through_conversions,
        cast(case when fills_conversions then attributed_conversions end as bigint) as conversions,
        cast(null as bigint) as conversions_beyond_window,
        cast(case when fills_conversions and attributed_conversions is not null then net_ht_eur end as decimal(18, 2))
            as conversions_measured_cost_eur,
        cast(null as bigint) as conversions_measured_clicks,
        cast(case when fills_revenue then attributed_revenue_eur end as decimal(18, 2)) as revenue_eur,
        cast(case when fills_revenue and attributed_revenue_eur is not null then net_ht_eur end as decimal(18, 2))
            as revenue_measured_cost_eur,
        cast(case when fills_video then video_plays end as bigint) as video_plays,
        cast(case when fills_video and video_plays is not null then video_completions end as bigint)
            as video_completions,
        cast(net_ht_eur as decimal(18, 2)) as regie_net_ht_eur
    from regie_attributed
    where
        (fills_conversions and attributed_conversions is not null)
        or (fills_revenue and attributed_revenue_eur is not null)
        or (fills_video and video_plays is not null)
),

ad_server_results as (
    select
        {{ dbt.concat(["result_day_key", "'|ad_server'"]) }} as result_key,
        'ad_server' as results_source,
        order_line_id,
        campaign_id,
        advertiser_id,
        media_type,
        pricing_basis,
        attribution_model,
        delivery_date,
        impressions,
        clicks,
        measurable_impressions,
        viewable_impressions,
        cost_eur,
        click_through_conversions,
        view_through_conversions,
        conversions,
        conversions_beyond_window,
        conversions_measured_cost_eur,
        conversions_measured_clicks,
        revenue_eur,
        revenue_measured_cost_eur,
        video_plays,
        video_completions,
        cast(null as decimal(18, 2)) as regie_net_ht_eur
    from ad_server
),

final as (
    select * from ad_server_results
    union all
    select * from regie_results
)

select * from final
