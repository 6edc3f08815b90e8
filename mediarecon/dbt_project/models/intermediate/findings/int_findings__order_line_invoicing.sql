-- Findings over_invoiced, invoiced_not_delivered and missing_discount. Rule: CCAP 12.4.4 (1), an order
-- line is paid for what was executed, at the order's price (12.2.2), with every discount of the order on
-- the invoice (12.4.4: the billing integrates all immediate discounts; Loi Sapin art. 20).
-- Grain: one row per order line and finding type: invoiced for more units (or a higher list price) than
-- delivered beyond the tolerance; invoiced with nothing delivered; a discount of the order left off the
-- invoice. entity_key = order_line_id; evidence = the first received invoice line billing it; advertiser =
-- the order line's.
with

order_line_delivery as (
    select * from {{ ref('fct_order_line_delivery') }}
),

invoice_lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

billing_lines as (
    select
        *,
        row_number() over (
            partition by order_line_id
            order by source_file_sha256, document_name, source_line
        ) as evidence_rank
    from invoice_lines
    where order_line_id is not null and not is_duplicate and not is_credit_note
),

-- The invoice lines an order-line finding rests on: the first received invoice line billing it (and, in an
-- e-invoice file, the document it is in).
invoice_evidence as (
    select
        order_line_id,
        case when min(received_via) = 'export' then 'regie' else 'einvoice' end as evidence_source,
        min(source_file_sha256) as evidence_file_sha256,
        min(source_line) as evidence_line,
        max(
            case when evidence_rank = 1 then {{ batch_document_name('document_name') }} end
        ) as evidence_document_name
    from billing_lines
    group by order_line_id
),

order_line_invoicing_flags as (
    select
        'over_invoiced' as finding_type,
        order_line_id,
        invoiced_net_ht_eur - billable_net_ht_eur as amount_at_stake_eur
    from order_line_delivery
    where invoice_match_status = 'over_invoiced' and is_gross_over_invoiced
    union all
    select
        'invoiced_not_delivered' as finding_type,
        order_line_id,
        invoiced_net_ht_eur as amount_at_stake_eur
    from order_line_delivery
    where invoice_match_status = 'invoiced_not_delivered'
    union all
    select
        'missing_discount' as finding_type,
        order_line_id,
        missing_discount_ht_eur as amount_at_stake_eur
    from order_line_delivery
    where missing_discount_ht_eur > 0
),

final as (
    select
        order_line_invoicing_flags.finding_type,
        order_line_invoicing_flags.order_line_id as entity_key,
        order_line_delivery.campaign_id,
        order_line_delivery.advertiser_id,
        order_line_delivery.media_seller_id,
        order_line_delivery.first_invoice_date as first_date,
        order_line_delivery.last_invoice_date as last_date,
        cast(order_line_invoicing_flags.amount_at_stake_eur as decimal(18, 2)) as amount_at_stake_eur,
        invoice_evidence.evidence_source,
        invoice_evidence.evidence_file_sha256,
        invoice_evidence.evidence_line,
        invoice_evidence.evidence_document_name
    from order_line_invoicing_flags
    inner join order_line_delivery
        on order_line_invoicing_flags.order_line_id = order_line_delivery.order_line_id
    left join invoice_evidence
        on order_line_invoicing_flags.order_line_id = invoice_evidence.order_line_id
)

select * from final
