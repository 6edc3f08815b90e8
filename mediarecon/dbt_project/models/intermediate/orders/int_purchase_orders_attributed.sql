-- One row per purchase order (its latest version) with the campaign and the advertiser it was placed
-- for: the one place an order's advertiser SIRET becomes an advertiser_id (seed advertisers), for the
-- order lines and for the findings that belong to an order, a campaign or an invoice quoting an order.
with

purchase_orders as (
    select * from {{ ref('int_purchase_orders_deduplicated') }}
),

advertisers as (
    select * from {{ ref('advertisers') }}
),

final as (
    select
        purchase_orders.purchase_order_id,
        purchase_orders.campaign_id,
        purchase_orders.campaign_name,
        purchase_orders.advertiser_siret,
        advertisers.advertiser_id
    from purchase_orders
    -- left: an order for an unknown SIRET keeps its row, without advertiser (the relationship test of
    -- stg_agency__purchase_orders names it)
    left join advertisers
        on purchase_orders.advertiser_siret = advertisers.siret
)

select * from final
