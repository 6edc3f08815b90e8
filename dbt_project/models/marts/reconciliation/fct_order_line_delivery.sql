-- Under-delivery rule: once an order line has ended, it is under-delivered when the delivered quantity
-- is below (100 - under_delivery_tolerance_pct) % of the ordered quantity. Cost is valued at the line's
-- net unit price (net media HT / ordered quantity).
with

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

deliveries as (
    select * from {{ ref('int_deliveries_matched') }}
    where is_matched
),

delivered as (
    select
        order_line_id,
        cast(sum(delivered_quantity) as bigint) as delivered_quantity,
        min(delivery_date) as first_delivery_date,
        max(delivery_date) as last_delivery_date,
        min(delivery_source) as delivery_source
    from deliveries
    group by order_line_id
),

measured as (
    select
        order_lines.order_line_id,
        order_lines.purchase_order_id,
        order_lines.campaign_id,
        order_lines.advertiser_id,
        order_lines.media_seller_id,
        order_lines.media_type,
        order_lines.buying_unit,
        order_lines.start_date,
        order_lines.end_date,
        order_lines.ordered_quantity,
        order_lines.net_ht_eur as ordered_net_ht_eur,
        coalesce(delivered.delivered_quantity, 0) as delivered_quantity,
        delivered.first_delivery_date,
        delivered.last_delivery_date,
        delivered.delivery_source,
        order_lines.source_file_sha256,
        order_lines.source_line
    from order_lines
    left join delivered
        on order_lines.order_line_id = delivered.order_line_id
),

final as (
    select
        order_line_id,
        purchase_order_id,
        campaign_id,
        advertiser_id,
        media_seller_id,
        media_type,
        buying_unit,
        start_date,
        end_date,
        ordered_quantity,
        ordered_net_ht_eur,
        delivered_quantity,
        cast(delivered_quantity * ordered_net_ht_eur / ordered_quantity as decimal(18, 2))
            as delivered_net_ht_eur,
        cast(delivered_quantity * 1.0 / ordered_quantity as decimal(12, 4)) as delivery_rate,
        case
            when cast('{{ var("as_of_date") }}' as date) < start_date then 'not_started'
            when cast('{{ var("as_of_date") }}' as date) <= end_date then 'in_progress'
            when delivered_quantity * 100.0 < ordered_quantity * (100 - {{ var('under_delivery_tolerance_pct') }})
                then 'under_delivered'
            else 'delivered'
        end as delivery_status,
        cast(
            case
                when delivered_quantity < ordered_quantity
                    then (ordered_quantity - delivered_quantity) * ordered_net_ht_eur / ordered_quantity
                else 0
            end as decimal(18, 2)
        ) as undelivered_net_ht_eur,
        first_delivery_date,
        last_delivery_date,
        delivery_source,
        source_file_sha256,
        source_line
    from measured
)

select * from final
