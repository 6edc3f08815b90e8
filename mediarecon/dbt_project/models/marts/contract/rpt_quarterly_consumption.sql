-- Quarterly consumption statement of the framework (CCAP 12.6): per quarter, what the orders of the
-- quarter consumed, the cumulative since the start of the framework and what remains under the ceiling.
with

ceiling as (
    select * from {{ ref('fct_contract_ceiling') }}
),

quarters as (
    select
        framework_id,
        cast(extract(year from consumption_date) as integer) as consumption_year,
        cast(extract(quarter from consumption_date) as integer) as consumption_quarter,
        cast(sum(ordered_ht_eur) as decimal(18, 2)) as ordered_ht_eur,
        cast(sum(purchase_orders) as bigint) as purchase_orders,
        max(cumulative_ht_eur) as cumulative_ht_eur,
        max(ceiling_ht_eur) as ceiling_ht_eur,
        max(case when is_over_threshold then 1 else 0 end) = 1 as is_over_threshold
    from ceiling
    group by
        framework_id,
        cast(extract(year from consumption_date) as integer),
        cast(extract(quarter from consumption_date) as integer)
),

final as (
    select
        {{ dbt.concat([
            "framework_id", "'|'", "cast(consumption_year as " ~ dbt.type_string() ~ ")", "'-T'",
            "cast(consumption_quarter as " ~ dbt.type_string() ~ ")"
        ]) }} as quarter_key,
        framework_id,
        consumption_year,
        consumption_quarter,
        purchase_orders,
        ordered_ht_eur,
        cumulative_ht_eur,
        {{ to_decimal(divide('cumulative_ht_eur * 100', 'ceiling_ht_eur'), 9, 4) }} as consumed_pct,
        cast(ceiling_ht_eur - cumulative_ht_eur as decimal(18, 2)) as remaining_ht_eur,
        is_over_threshold
    from quarters
)

select * from final
