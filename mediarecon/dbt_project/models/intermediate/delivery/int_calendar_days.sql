-- Every calendar day in the configured window, to give days without any delivery a zero.
with

spine as (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('calendar_start') ~ "' as date)",
        "cast('" ~ var('calendar_end') ~ "' as date)"
    ) }}
),

final as (
    select cast(date_day as date) as calendar_date
    from spine
)

select * from final
