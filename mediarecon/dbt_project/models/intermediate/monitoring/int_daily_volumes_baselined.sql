-- The baseline of a day: the median volume of the same weekday over the previous drop_baseline_weeks
-- weeks, so weekends and the weekly rhythm compare like with like and one bad day does not move it.
-- Days of a planned pause are left out of every baseline (a pause is not the normal rhythm).
with

series as (
    select * from {{ ref('int_daily_volumes_unioned') }}
),

history as (
    select
        today.series_type,
        today.series_key,
        today.volume_date,
        past.volume as past_volume
    from series as today
    inner join series as past
        on
            today.series_type = past.series_type
            and today.series_key = past.series_key
            and today.volume_date > past.volume_date
            and past.volume_date >= {{ dbt.dateadd('day', -7 * var('drop_baseline_weeks'), 'today.volume_date') }}
    where
        mod({{ dbt.datediff('past.volume_date', 'today.volume_date', 'day') }}, 7) = 0
        and not past.is_paused
),

baselines as (
    select
        series_type,
        series_key,
        volume_date,
        percentile_cont(0.5) within group (order by past_volume) as baseline_volume,
        count(*) as baseline_weeks
    from history
    group by series_type, series_key, volume_date
),

final as (
    select
        series.*,
        baselines.baseline_volume,
        coalesce(baselines.baseline_weeks, 0) as baseline_weeks
    from series
    left join baselines
        on
            series.series_type = baselines.series_type
            and series.series_key = baselines.series_key
            and series.volume_date = baselines.volume_date
)

select * from final
