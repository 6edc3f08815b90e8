-- Performance bonus (UO 03, CCAP 11.3.6): per year, the net media base (net media HT invoiced on order
-- lines ending that year, duplicates and credit notes left out), whether every judged EPM was met, and
-- the bonus that makes due at the UO 03 rate of the fee schedule (uncapped; paid in the next year).
with

order_lines as (
    select * from {{ ref('fct_order_line_delivery') }}
),

epm as (
    select * from {{ ref('fct_epm_results') }}
),

fee_schedule as (
    select * from {{ ref('fee_schedule') }}
    where uo_code = '03'
),

base as (
    select
        cast(extract(year from end_date) as integer) as bonus_year,
        cast(sum(invoiced_net_ht_eur) as decimal(18, 2)) as net_media_base_ht_eur
    from order_lines
    group by cast(extract(year from end_date) as integer)
),

judged as (
    select
        kpi_year,
        count(*) as epm_judged,
        sum(case when is_met then 0 else 1 end) as epm_missed
    from epm
    where is_met is not null
    group by kpi_year
),

final as (
    select
        base.bonus_year,
        base.net_media_base_ht_eur,
        cast(coalesce(judged.epm_judged, 0) as bigint) as epm_judged,
        cast(coalesce(judged.epm_missed, 0) as bigint) as epm_missed,
        coalesce(judged.epm_missed, 0) = 0 and coalesce(judged.epm_judged, 0) > 0 as is_bonus_eligible,
        fee_schedule.fee_rate_pct as bonus_rate_pct,
        {{ to_decimal(
            "case when coalesce(judged.epm_missed, 0) = 0 and coalesce(judged.epm_judged, 0) > 0 then "
            ~ divide('base.net_media_base_ht_eur * fee_schedule.fee_rate_pct', 100) ~ " else 0 end",
            18, 2
        ) }} as bonus_ht_eur
    from base
    left join judged
        on base.bonus_year = judged.kpi_year
    cross join fee_schedule
)

select * from final
