-- Contract ceiling (CCAP 5, 12.6): the framework's consumption day by day. Each purchase order consumes
-- its net media HT + agency fees HT on its order date, on top of the consumption brought forward from
-- before the warehouse's data; the threshold (70 %) is crossed on the first day the cumulative reaches it.
with

purchase_orders as (
    select * from {{ ref('int_purchase_orders_deduplicated') }}
),

frameworks as (
    select * from {{ ref('framework_agreements') }}
),

daily as (
    select
        order_date as consumption_date,
        cast(sum(net_ht_eur + coalesce(fee_ht_eur, 0)) as decimal(18, 2)) as ordered_ht_eur,
        count(*) as purchase_orders,
        min(source_file_sha256) as source_file_sha256
    from purchase_orders
    group by order_date
),

cumulated as (
    select
        frameworks.framework_id,
        daily.consumption_date,
        daily.purchase_orders,
        daily.ordered_ht_eur,
        frameworks.ceiling_ht_eur,
        frameworks.alert_threshold_pct,
        cast(
            frameworks.consumed_before_data_ht_eur
            + sum(daily.ordered_ht_eur) over (
                partition by frameworks.framework_id
                order by daily.consumption_date
                rows between unbounded preceding and current row
            ) as decimal(18, 2)
        ) as cumulative_ht_eur,
        daily.source_file_sha256
    from daily
    cross join frameworks
    where daily.consumption_date > frameworks.consumed_before_data_until
),

final as (
    select
        {{ dbt.concat(["framework_id", "'|'", "cast(consumption_date as " ~ dbt.type_string() ~ ")"]) }}
            as consumption_day_key,
        framework_id,
        consumption_date,
        purchase_orders,
        ordered_ht_eur,
        cumulative_ht_eur,
        ceiling_ht_eur,
        {{ to_decimal(divide('cumulative_ht_eur * 100', 'ceiling_ht_eur'), 9, 4) }} as consumed_pct,
        cast(ceiling_ht_eur - cumulative_ht_eur as decimal(18, 2)) as remaining_ht_eur,
        cumulative_ht_eur * 100 >= ceiling_ht_eur * alert_threshold_pct as is_over_threshold,
        cumulative_ht_eur >= ceiling_ht_eur as is_over_ceiling,
        source_file_sha256
    from cumulated
)

select * from final
