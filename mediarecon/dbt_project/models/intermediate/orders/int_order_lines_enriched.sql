-- Latest version of each order line, with its purchase order, campaign, advertiser and seller.
with

order_lines as (
    {{ keep_one_version(ref('stg_agency__order_lines'), ['order_line_id']) }}
),

purchase_orders as (
    select * from {{ ref('int_purchase_orders_attributed') }}
),

media_sellers as (
    select * from {{ ref('media_sellers') }}
),

final as (
    select
        order_lines.order_line_id,
        order_lines.purchase_order_id,
        order_lines.line_number,
        purchase_orders.campaign_id,
        purchase_orders.campaign_name,
        purchase_orders.advertiser_id,
        media_sellers.media_seller_id,
        order_lines.media_seller_name,
        order_lines.media_seller_siret,
        order_lines.media_type,
        order_lines.uo_code,
        order_lines.buying_unit,
        order_lines.pricing_basis,
        order_lines.ordered_quantity,
        order_lines.unit_gross_price_eur,
        order_lines.gross_ht_eur,
        order_lines.volume_discount_eur,
        order_lines.public_interest_discount_eur,
        order_lines.professional_discount_eur,
        order_lines.cumul_mandats_discount_eur,
        order_lines.net_ht_eur,
        order_lines.net_ttc_eur,
        order_lines.fee_rate_pct,
        order_lines.start_date,
        order_lines.end_date,
        order_lines.target_volume,
        order_lines.target_cpm_eur,
        order_lines.target_cpc_eur,
        order_lines.target_cpa_eur,
        order_lines.target_ctr_pct,
        order_lines.target_completion_rate_pct,
        order_lines.attribution_model,
        order_lines.attribution_window_days,
        order_lines.source_file_sha256,
        order_lines.source_line
    from order_lines
    left join purchase_orders
        on order_lines.purchase_order_id = purchase_orders.purchase_order_id
    left join media_sellers
        on order_lines.media_seller_siret = media_sellers.siret
)

select * from final
