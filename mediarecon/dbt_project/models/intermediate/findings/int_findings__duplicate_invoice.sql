-- Finding duplicate_invoice. Rule: CCAP 12.4.4 (1), one payment request per service executed: the second
-- copy of an invoice (the same supplier and number deposited again, or the same content under a new
-- number; int_invoices_identified) must not be paid twice.
-- Grain: one row per duplicate copy; entity_key = supplier_id|invoice_number of that copy; amount = its
-- TTC (what paying it twice would cost). Advertiser: the Chorus Pro invoice's recipient, else the
-- e-invoice's buyer, else the advertiser of the purchase order it quotes (a régie's export names no
-- buyer).
with

invoices as (
    select * from {{ ref('int_invoices_identified') }}
),

invoice_payments as (
    select * from {{ ref('fct_invoice_payments') }}
),

advertisers as (
    select * from {{ ref('advertisers') }}
),

purchase_orders as (
    select * from {{ ref('int_purchase_orders_attributed') }}
),

media_sellers as (
    select * from {{ ref('media_sellers') }}
),

final as (
    select
        'duplicate_invoice' as finding_type,
        invoices.supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        coalesce(
            invoice_payments.advertiser_id,
            buyers.advertiser_id,
            purchase_orders.advertiser_id
        ) as advertiser_id,
        media_sellers.media_seller_id,
        invoices.issue_date as first_date,
        invoices.issue_date as last_date,
        cast(invoices.tax_inclusive_eur as decimal(18, 2)) as amount_at_stake_eur,
        case when invoices.received_via = 'export' then 'regie' else 'einvoice' end as evidence_source,
        invoices.source_file_sha256 as evidence_file_sha256,
        cast(null as bigint) as evidence_line,
        {{ batch_document_name('invoices.document_name') }} as evidence_document_name
    from invoices
    left join invoice_payments
        on invoices.chorus_invoice_id = invoice_payments.invoice_id
    left join advertisers as buyers
        on invoices.buyer_siret = buyers.siret
    left join purchase_orders
        on invoices.purchase_order_ref = purchase_orders.purchase_order_id
    left join media_sellers
        on invoices.supplier_id = media_sellers.siret
    where invoices.is_duplicate
)

select * from final
