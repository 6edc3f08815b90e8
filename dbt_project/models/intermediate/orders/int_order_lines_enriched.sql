-- Latest version of each order line, with its purchase order, campaign, advertiser and seller.
with

order_lines as (
    select * from {{ ref('stg_agency__order_lines') }}
),

purchase_orders as (
    select * from {{ ref('int_purchase_orders_deduplicated') }}
),

advertisers as (
    select * from {{ ref('advertisers') }}
),

media_sellers as (
    select * from {{ ref('media_sellers') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by order_line_id
            order by received_at desc, source_file_sha256 desc, source_line desc
        ) as version_rank
    from order_lines
),

final as (
    select
        ranked.order_line_id,
        ranked.purchase_order_id,
        purchase_orders.campaign_id,
        purchase_orders.campaign_name,
        advertisers.advertiser_id,
        media_sellers.media_seller_id,
        ranked.media_seller_name,
        ranked.media_type,
        ranked.uo_code,
        ranked.buying_unit,
        ranked.pricing_basis,
        ranked.ordered_quantity,
        ranked.gross_ht_eur,
        ranked.net_ht_eur,
        ranked.net_ttc_eur,
        ranked.fee_rate_pct,
        ranked.start_date,
        ranked.end_date,
        ranked.source_file_sha256,
        ranked.source_line
    from ranked
    left join purchase_orders
        on ranked.purchase_order_id = purchase_orders.purchase_order_id
    left join advertisers
        on purchase_orders.advertiser_siret = advertisers.siret
    left join media_sellers
        on ranked.media_seller_siret = media_sellers.siret
    where ranked.version_rank = 1
)

select * from final
