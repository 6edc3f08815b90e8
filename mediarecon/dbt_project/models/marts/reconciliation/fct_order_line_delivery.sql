-- Under-delivery rule: once an order line has ended, it is under-delivered when the delivered quantity
-- is below (100 - under_delivery_tolerance_pct) % of the ordered quantity. Cost is valued at the line's
-- net unit price (net media HT / ordered quantity).
-- Invoice match (documented in docs/input_formats.md): the billable units are the delivered ones capped at
-- the ordered quantity; an order line is over- (under-) invoiced when its invoiced net exceeds (falls
-- short of) their net value by more than the tolerance: the larger of invoice_tolerance_pct % of that
-- value and invoice_tolerance_eur. Duplicate invoices and credit notes are not in the invoiced net.
with

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

invoiced as (
    select * from {{ ref('int_order_lines_invoiced') }}
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
        order_lines.campaign_name,
        order_lines.advertiser_id,
        order_lines.media_seller_id,
        order_lines.media_type,
        order_lines.buying_unit,
        order_lines.start_date,
        order_lines.end_date,
        order_lines.ordered_quantity,
        order_lines.net_ht_eur as ordered_net_ht_eur,
        order_lines.unit_gross_price_eur,
        case when order_lines.pricing_basis = 'cpm' then 1000 else 1 end as price_base_quantity,
        order_lines.volume_discount_eur,
        order_lines.public_interest_discount_eur,
        order_lines.professional_discount_eur,
        order_lines.cumul_mandats_discount_eur,
        coalesce(delivered.delivered_quantity, 0) as delivered_quantity,
        delivered.first_delivery_date,
        delivered.last_delivery_date,
        delivered.delivery_source,
        coalesce(invoiced.invoice_count, 0) as invoice_count,
        coalesce(invoiced.invoiced_quantity, 0) as invoiced_quantity,
        coalesce(invoiced.invoiced_gross_ht_eur, 0) as invoiced_gross_ht_eur,
        coalesce(invoiced.invoiced_volume_discount_eur, 0) as invoiced_volume_discount_eur,
        coalesce(invoiced.invoiced_public_interest_discount_eur, 0) as invoiced_public_interest_discount_eur,
        coalesce(invoiced.invoiced_professional_discount_eur, 0) as invoiced_professional_discount_eur,
        coalesce(invoiced.invoiced_cumul_mandats_discount_eur, 0) as invoiced_cumul_mandats_discount_eur,
        coalesce(invoiced.invoiced_other_discounts_eur, 0) as invoiced_other_discounts_eur,
        coalesce(invoiced.invoiced_net_ht_eur, 0) as invoiced_net_ht_eur,
        coalesce(invoiced.credited_net_ht_eur, 0) as credited_net_ht_eur,
        invoiced.first_invoice_date,
        invoiced.last_invoice_date,
        order_lines.source_file_sha256,
        order_lines.source_line
    from order_lines
    left join delivered
        on order_lines.order_line_id = delivered.order_line_id
    left join invoiced
        on order_lines.order_line_id = invoiced.order_line_id
),

billable as (
    select
        measured.*,
        {{ to_decimal(divide(
            'measured.unit_gross_price_eur * least(measured.delivered_quantity, measured.ordered_quantity)',
            'measured.price_base_quantity'
        ), 18, 2) }} as billable_gross_ht_eur,
        {{ to_decimal(divide(
            'measured.ordered_net_ht_eur * least(measured.delivered_quantity, measured.ordered_quantity)',
            'measured.ordered_quantity'
        ), 18, 2) }} as billable_net_ht_eur,
        -- a discount of the order that no invoice line carries, valued on the units invoiced
        {% set missing_discount -%}
            (
                case
                    when measured.volume_discount_eur > 0 and measured.invoiced_volume_discount_eur = 0
                        then measured.volume_discount_eur
                    else 0
                end
                + case
                    when
                        measured.public_interest_discount_eur > 0 and measured.invoiced_public_interest_discount_eur = 0
                        then measured.public_interest_discount_eur
                    else 0
                end
                + case
                    when measured.professional_discount_eur > 0 and measured.invoiced_professional_discount_eur = 0
                        then measured.professional_discount_eur
                    else 0
                end
                + case
                    when measured.cumul_mandats_discount_eur > 0 and measured.invoiced_cumul_mandats_discount_eur = 0
                        then measured.cumul_mandats_discount_eur
                    else 0
                end
            ) * measured.invoiced_quantity
        {%- endset %}
        {{ to_decimal(divide(missing_discount, 'measured.ordered_quantity'), 18, 2) }} as missing_discount_ht_eur
    from measured
),

matched as (
    select
        billable.*,
        greatest(
            {{ divide("billable.billable_net_ht_eur * " ~ var('invoice_tolerance_pct'), 100) }},
            {{ var('invoice_tolerance_eur') }}
        ) as tolerance_eur
    from billable
),

final as (
    select
        order_line_id,
        purchase_order_id,
        campaign_id,
        campaign_name,
        advertiser_id,
        media_seller_id,
        media_type,
        buying_unit,
        start_date,
        end_date,
        ordered_quantity,
        ordered_net_ht_eur,
        delivered_quantity,
        {{ to_decimal(divide('delivered_quantity * ordered_net_ht_eur', 'ordered_quantity'), 18, 2) }}
            as delivered_net_ht_eur,
        {{ to_decimal(divide('delivered_quantity', 'ordered_quantity'), 12, 4) }} as delivery_rate,
        case
            when cast('{{ var("as_of_date") }}' as date) < start_date then 'not_started'
            when cast('{{ var("as_of_date") }}' as date) <= end_date then 'in_progress'
            when delivered_quantity * 100.0 < ordered_quantity * (100 - {{ var('under_delivery_tolerance_pct') }})
                then 'under_delivered'
            else 'delivered'
        end as delivery_status,
        {{ to_decimal(
            "case when delivered_quantity < ordered_quantity then "
            ~ divide('(ordered_quantity - delivered_quantity) * ordered_net_ht_eur', 'ordered_quantity')
            ~ " else 0 end",
            18, 2
        ) }} as undelivered_net_ht_eur,
        first_delivery_date,
        last_delivery_date,
        delivery_source,
        invoice_count,
        cast(invoiced_quantity as decimal(18, 4)) as invoiced_quantity,
        cast(invoiced_gross_ht_eur as decimal(18, 2)) as invoiced_gross_ht_eur,
        cast(
            invoiced_volume_discount_eur + invoiced_public_interest_discount_eur + invoiced_professional_discount_eur
            + invoiced_cumul_mandats_discount_eur + invoiced_other_discounts_eur
            as decimal(18, 2)
        ) as invoiced_discounts_ht_eur,
        cast(invoiced_net_ht_eur as decimal(18, 2)) as invoiced_net_ht_eur,
        cast(credited_net_ht_eur as decimal(18, 2)) as credited_net_ht_eur,
        billable_gross_ht_eur,
        billable_net_ht_eur,
        missing_discount_ht_eur,
        case
            when invoice_count = 0 and delivered_quantity = 0 then 'not_invoiced'
            when invoice_count = 0 then 'delivered_not_invoiced'
            when delivered_quantity = 0 then 'invoiced_not_delivered'
            when invoiced_net_ht_eur > billable_net_ht_eur + tolerance_eur then 'over_invoiced'
            when invoiced_net_ht_eur < billable_net_ht_eur - tolerance_eur then 'under_invoiced'
            else 'matched'
        end as invoice_match_status,
        -- more units or a higher price than delivered, not only a discount left off
        invoice_count > 0 and delivered_quantity > 0
        and invoiced_gross_ht_eur > billable_gross_ht_eur + tolerance_eur as is_gross_over_invoiced,
        first_invoice_date,
        last_invoice_date,
        source_file_sha256,
        source_line
    from matched
)

select * from final
