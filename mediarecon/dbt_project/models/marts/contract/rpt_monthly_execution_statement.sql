-- Monthly execution statement (état récapitulatif d'exécution, CCAP 11.2.5): one row per purchase order
-- and month of its execution (from the month it was ordered to the month it ends), with the fifteen
-- items the CCAP lists; statement_month and advertiser_id let the coordinator take the global statement
-- and each advertiser its own. Ordonnateur level 1 is the ordering entity, level 2 its ordering service
-- (Chorus Pro service code). Fees TTC are the order's fees HT + 20 % VAT. Penalties (fct_order_penalties)
-- and réfactions (the price reduction of the order's current decision, fct_admission_decisions) are
-- applied in the statement of the month the order ends, deducted from the price to pay; reductions_applied
-- says which réfaction (its reason, who decided it and when).
with

purchase_orders as (
    select * from {{ ref('int_purchase_orders_deduplicated') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

advertisers as (
    select * from {{ ref('advertisers') }}
),

penalties as (
    select * from {{ ref('fct_order_penalties') }}
),

refactions as (
    select * from {{ ref('fct_admission_decisions') }}
    where is_current and decision = 'refaction'
),

months as (
    select distinct cast({{ dbt.date_trunc('month', 'calendar_date') }} as date) as statement_month
    from {{ ref('int_calendar_days') }}
),

quantities as (
    select
        purchase_order_id,
        cast(sum(ordered_quantity) as bigint) as ordered_quantity
    from order_lines
    group by purchase_order_id
),

orders as (
    select
        purchase_orders.*,
        advertisers.advertiser_id,
        quantities.ordered_quantity,
        cast(purchase_orders.fee_ht_eur * 1.2 as decimal(18, 2)) as fees_ttc_eur,
        coalesce(penalties.late_penalty_eur, 0) as late_penalty_eur,
        coalesce(penalties.poor_execution_penalty_eur, 0) as other_penalty_eur,
        coalesce(refactions.refaction_eur, 0) as refaction_eur,
        {{ dbt.concat([
            "refactions.reason", "' (réfaction du '",
            dbt.concat(["cast(refactions.decided_date as " ~ dbt.type_string() ~ ")"]),
            "', '", "refactions.decided_by", "')'"
        ]) }} as refaction_text
    from purchase_orders
    left join advertisers
        on purchase_orders.advertiser_siret = advertisers.siret
    left join quantities
        on purchase_orders.purchase_order_id = quantities.purchase_order_id
    left join penalties
        on purchase_orders.purchase_order_id = penalties.purchase_order_id
    left join refactions
        on purchase_orders.purchase_order_id = refactions.purchase_order_id
),

statement_rows as (
    select
        orders.*,
        months.statement_month,
        -- penalties are applied once, in the month the order ends
        case
            when months.statement_month = cast({{ dbt.date_trunc('month', 'orders.end_date') }} as date)
                then orders.late_penalty_eur
            else 0
        end as late_penalties_eur,
        case
            when months.statement_month = cast({{ dbt.date_trunc('month', 'orders.end_date') }} as date)
                then orders.other_penalty_eur
            else 0
        end as other_penalties_eur,
        case
            when months.statement_month = cast({{ dbt.date_trunc('month', 'orders.end_date') }} as date)
                then orders.refaction_eur
            else 0
        end as refactions_eur,
        case
            when months.statement_month = cast({{ dbt.date_trunc('month', 'orders.end_date') }} as date)
                then orders.refaction_text
        end as refactions_applied
    from orders
    inner join months
        on
            months.statement_month >= cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date)
            and months.statement_month <= cast({{ dbt.date_trunc('month', 'orders.end_date') }} as date)
),

final as (
    select
        {{ dbt.concat([
            "purchase_order_id", "'|'", "cast(statement_month as " ~ dbt.type_string() ~ ")"
        ]) }} as statement_row_key,
        statement_month,
        advertiser_id,
        advertiser_name as ordonnateur_level_1,
        chorus_service_code as ordonnateur_level_2,
        purchase_order_id,
        order_date,
        campaign_name as order_object,
        uo_code as ordered_uo,
        ordered_quantity,
        net_ttc_eur as media_ordered_ttc_eur,
        fees_ttc_eur as fees_received_ttc_eur,
        cast(net_ttc_eur + fees_ttc_eur - late_penalties_eur - other_penalties_eur - refactions_eur as decimal(18, 2))
            as price_to_pay_ttc_eur,
        cast(refactions_eur as decimal(18, 2)) as reduction_deducted_eur,
        cast(late_penalties_eur as decimal(18, 2)) as late_penalties_eur,
        cast(other_penalties_eur as decimal(18, 2)) as other_penalties_eur,
        cast(late_penalties_eur + other_penalties_eur as decimal(18, 2)) as penalties_deducted_eur,
        refactions_applied as reductions_applied
    from statement_rows
)

select * from final
