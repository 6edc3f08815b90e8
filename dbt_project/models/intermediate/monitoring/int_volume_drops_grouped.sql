-- Consecutive drop days of one series grouped into one episode (gaps and islands); an episode counts
-- when it lasts at least drop_min_days days.
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

final as (
    select
        series_type,
        series_key,
        min(campaign_id) as campaign_id,
        min(isp_domain) as isp_domain,
        min(volume_date) as first_date,
        max(volume_date) as last_date,
        count(*) as drop_days,
        sum(baseline_volume - volume) as lost_volume,
        sum((baseline_volume - volume) * unit_value_eur) as lost_value_eur
    from numbered
    group by series_type, series_key, island_id
    having count(*) >= {{ var('drop_min_days') }}
)

select * from final
