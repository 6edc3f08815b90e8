-- One row per campaign the purchase orders know, with its advertiser: what a finding about a campaign
-- (not an order line) belongs to.
with

purchase_orders as (
    select * from {{ ref('int_purchase_orders_attributed') }}
),

final as (
    select
        campaign_id,
        -- a campaign's orders are all for its advertiser; min() only makes the pick deterministic
        min(advertiser_id) as advertiser_id
    from purchase_orders
    group by campaign_id
)

select * from final
