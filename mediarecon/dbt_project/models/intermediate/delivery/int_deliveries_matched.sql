-- Each day of counted delivery matched to the order line it was bought under (or to none).
-- The delivered quantity is counted in the line's buying unit: clicks for CPC lines, impressions for
-- other ad-server lines, spots/insertions/faces/screenings from régie reports, delivered e-mails.
with

deliveries as (
    select * from {{ ref('int_deliveries_unioned') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

final as (
    select
        deliveries.delivery_source,
        deliveries.counted_object_id,
        deliveries.order_line_ref,
        order_lines.order_line_id,
        order_lines.order_line_id is not null as is_matched,
        coalesce(order_lines.campaign_id, deliveries.campaign_id) as campaign_id,
        deliveries.delivery_date,
        deliveries.impressions,
        deliveries.clicks,
        case
            when deliveries.delivery_source = 'ad_server' and order_lines.pricing_basis = 'cpc'
                then deliveries.clicks
            when deliveries.delivery_source = 'ad_server'
                then deliveries.impressions
            else deliveries.units
        end as delivered_quantity,
        case
            when deliveries.delivery_source = 'email_router'
                then {{ to_decimal(
                    divide('deliveries.units * order_lines.net_ht_eur', 'order_lines.ordered_quantity'), 18, 2
                ) }}
            else deliveries.media_cost_eur
        end as delivered_cost_eur,
        deliveries.source_file_sha256,
        deliveries.source_line
    from deliveries
    left join order_lines
        on deliveries.order_line_ref = order_lines.order_line_id
)

select * from final
