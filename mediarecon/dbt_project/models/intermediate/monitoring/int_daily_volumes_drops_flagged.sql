-- Every watched series x day with its baseline and whether it is a drop day. Campaign and campaign x ISP
-- series are judged as they are; advertiser and seller series are rolled up from their campaigns'
-- series, counting on each day only the campaigns that can be judged that day (in flight, not paused,
-- with a baseline), so a flight starting or ending is never read as a drop.
-- A day is a drop day when it is at or below share_pct % of its baseline (zero included), the baseline
-- resting on at least two past weeks and at least min_baseline units; thresholds per channel come from
-- the alert rules file (var drop_rules).
with

baselined as (
    select * from {{ ref('int_daily_volumes_baselined') }}
),

judged as (
    select * from baselined
    where
        not is_paused
        and baseline_weeks >= 2
),

direct_series as (
    select
        series_type,
        series_key,
        channel,
        campaign_id,
        advertiser_id,
        media_seller_id,
        isp_domain,
        volume_date,
        volume,
        unit_value_eur,
        baseline_volume,
        baseline_weeks,
        data_last_date,
        is_paused
    from baselined
    where series_type in ('campaign', 'campaign_isp')
),

-- advertiser = sum of its campaigns; seller = sum of its campaign x seller series
rolled_up_keys as (
    select
        case series_type when 'campaign' then 'advertiser' else 'seller' end as series_type,
        case series_type when 'campaign' then advertiser_id else media_seller_id end as series_key,
        volume_date,
        volume,
        unit_value_eur,
        baseline_volume,
        baseline_weeks,
        data_last_date
    from judged
    where
        (series_type = 'campaign' and advertiser_id is not null)
        or (series_type = 'campaign_seller' and media_seller_id is not null)
),

rolled_up_series as (
    select
        series_type,
        series_key,
        'ad_server' as channel,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        case when series_type = 'advertiser' then series_key end as advertiser_id,
        case when series_type = 'seller' then series_key end as media_seller_id,
        cast(null as {{ dbt.type_string() }}) as isp_domain,
        volume_date,
        sum(volume) as volume,
        {{ divide('sum(baseline_volume * unit_value_eur)', 'sum(baseline_volume)') }} as unit_value_eur,
        sum(baseline_volume) as baseline_volume,
        min(baseline_weeks) as baseline_weeks,
        max(data_last_date) as data_last_date,
        false as is_paused
    from rolled_up_keys
    group by series_type, series_key, volume_date
),

thresholds as (
    {{ drop_rule_thresholds() }}
),

unioned as (
    select * from direct_series
    union all
    select * from rolled_up_series
),

final as (
    select
        unioned.*,
        coalesce(
            not unioned.is_paused
            and unioned.baseline_weeks >= 2
            and unioned.baseline_volume >= thresholds.min_baseline
            and unioned.volume <= {{ divide('unioned.baseline_volume * thresholds.share_pct', 100) }},
            false
        ) as is_drop_day
    from unioned
    left join thresholds
        on unioned.channel = thresholds.channel
)

select * from final
