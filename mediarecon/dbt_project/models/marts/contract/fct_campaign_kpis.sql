-- Campaign KPIs (CCAP 11.3.6, decree 2017-159) per campaign x media type x month, from the ad-server
-- delivery matched to order lines: impressions, clicks, net media cost, CTR, CPM, CPC and viewability
-- (viewable / measurable impressions; rows where the ad server did not measure are left out of both).
-- Conversions and video completions are not in the received reports: CPA, conversion rate and video
-- completion rate stay empty (null) until a source carries them.
with

deliveries as (
    select * from {{ ref('stg_ad_server__deliveries') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

monthly as (
    select
        order_lines.campaign_id,
        order_lines.media_type,
        cast({{ dbt.date_trunc('month', 'deliveries.delivery_date') }} as date) as delivery_month,
        cast(sum(deliveries.impressions) as bigint) as impressions,
        cast(sum(deliveries.clicks) as bigint) as clicks,
        cast(sum(case when deliveries.viewable_impressions is not null then deliveries.impressions end) as bigint)
            as measurable_impressions,
        cast(sum(deliveries.viewable_impressions) as bigint) as viewable_impressions,
        cast(sum(deliveries.media_cost_eur) as decimal(18, 2)) as cost_eur
    from deliveries
    inner join order_lines
        on deliveries.order_line_ref = order_lines.order_line_id
    group by
        order_lines.campaign_id,
        order_lines.media_type,
        cast({{ dbt.date_trunc('month', 'deliveries.delivery_date') }} as date)
),

final as (
    select
        {{ dbt.concat([
            "campaign_id", "'|'", "media_type", "'|'", "cast(delivery_month as " ~ dbt.type_string() ~ ")"
        ]) }} as kpi_key,
        campaign_id,
        media_type,
        delivery_month,
        impressions,
        clicks,
        measurable_impressions,
        viewable_impressions,
        cost_eur,
        {{ to_decimal(divide('clicks', 'impressions'), 12, 6) }} as ctr,
        {{ to_decimal(divide('cost_eur * 1000', 'impressions'), 18, 4) }} as cpm_eur,
        {{ to_decimal(divide('cost_eur', 'clicks'), 18, 4) }} as cpc_eur,
        cast(null as decimal(18, 4)) as cpa_eur,
        cast(null as decimal(12, 6)) as conversion_rate,
        {{ to_decimal(divide('viewable_impressions', 'measurable_impressions'), 12, 6) }} as viewability_rate,
        cast(null as decimal(12, 6)) as video_completion_rate
    from monthly
)

select * from final
