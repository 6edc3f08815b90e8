-- Consecutive drop days of one series grouped into one episode (gaps and islands); an episode counts
-- when it lasts at least its channel's min_days days (alert rules file, var drop_rules).
with

flagged as (
    select * from {{ ref('int_daily_volumes_drops_flagged') }}
    where is_drop_day
),

numbered as (
    select
        *,
        {{ dbt.datediff("cast('2000-01-01' as date)", 'volume_date', 'day') }}
        - row_number() over (partition by series_type, series_key order by volume_date) as island_id
    from flagged
),

thresholds as (
    {{ drop_rule_thresholds() }}
),

episodes as (
    select
        series_type,
        series_key,
        min(channel) as channel,
        min(campaign_id) as campaign_id,
        min(advertiser_id) as advertiser_id,
        min(media_seller_id) as media_seller_id,
        min(isp_domain) as isp_domain,
        min(volume_date) as first_date,
        max(volume_date) as last_date,
        max(data_last_date) as data_last_date,
        count(*) as drop_days,
        min(volume) as lowest_volume,
        min({{ divide('volume', 'baseline_volume') }}) as lowest_share,
        sum(volume) as volume,
        sum(baseline_volume) as baseline_volume,
        sum(baseline_volume - volume) as lost_volume,
        sum((baseline_volume - volume) * unit_value_eur) as lost_value_eur
    from numbered
    group by series_type, series_key, island_id
),

final as (
    select episodes.*
    from episodes
    inner join thresholds
        on episodes.channel = thresholds.channel
    where episodes.drop_days >= thresholds.min_days
)

select * from final
