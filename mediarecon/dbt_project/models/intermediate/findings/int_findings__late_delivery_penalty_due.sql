-- Finding late_delivery_penalty_due. Rule: CCAP 11.11.1, delivery after the order's end date (no force
-- majeure, no fault of the advertiser) costs 1/20 of the order per day late, capped at 10 % of it
-- (computed in fct_order_penalties).
-- Grain: one row per purchase order with a late-delivery penalty above zero; entity_key =
-- purchase_order_id; first_date = the first day late, last_date = the last day delivered; amount = the
-- penalty; advertiser = the purchase order's.
with

order_penalties as (
    select * from {{ ref('fct_order_penalties') }}
),

purchase_orders as (
    select * from {{ ref('int_purchase_orders_attributed') }}
),

final as (
    select
        'late_delivery_penalty_due' as finding_type,
        order_penalties.purchase_order_id as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        purchase_orders.advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        cast({{ dbt.dateadd('day', 1, 'order_penalties.contract_end_date') }} as date) as first_date,
        order_penalties.actual_end_date as last_date,
        cast(order_penalties.late_penalty_eur as decimal(18, 2)) as amount_at_stake_eur,
        'agency' as evidence_source,
        order_penalties.source_file_sha256 as evidence_file_sha256,
        order_penalties.source_line as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from order_penalties
    left join purchase_orders
        on order_penalties.purchase_order_id = purchase_orders.purchase_order_id
    where order_penalties.late_penalty_eur > 0
)

select * from final
