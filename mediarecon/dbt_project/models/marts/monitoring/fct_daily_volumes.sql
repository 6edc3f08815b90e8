-- The watched daily series (campaign, campaign x ISP, advertiser, seller) with their baseline: what the
-- alert charts draw and what an analyst checks a drop against.
with

flagged as (
    select * from {{ ref('int_daily_volumes_drops_flagged') }}
),

final as (
    select
        series_type,
        series_key,
        channel,
        campaign_id,
        advertiser_id,
        media_seller_id,
        isp_domain,
        volume_date,
        cast(volume as bigint) as volume,
        cast(baseline_volume as double) as baseline_volume,
        cast(baseline_weeks as integer) as baseline_weeks,
        is_paused,
        is_drop_day
    from flagged
)

select * from final
