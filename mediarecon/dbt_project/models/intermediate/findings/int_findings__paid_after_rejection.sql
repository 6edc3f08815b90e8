-- Finding paid_after_rejection. Rule: CCAP 11.10.2 (CCAG-FCS art. 30): a rejected order is not admitted,
-- so nothing of it is due. Invoices of an order whose current decision is a rejet, paid (MISE_EN_PAIEMENT)
-- on or after the day it was rejected, are a finding.
-- Grain: one row per rejected purchase order with such payments; entity_key = purchase_order_id; first_date
-- and last_date = the first and last of those payments; amount = their TTC; evidence = the first such
-- invoice's Chorus Pro row; advertiser = the order's.
with

invoice_payments as (
    select * from {{ ref('fct_invoice_payments') }}
),

invoices as (
    select * from {{ ref('int_invoices_deduplicated') }}
),

rejections as (
    select * from {{ ref('fct_admission_decisions') }}
    where is_current and decision = 'rejet'
),

paid as (
    select
        invoice_payments.*,
        rejections.campaign_id,
        rejections.advertiser_id as order_advertiser_id,
        row_number() over (
            partition by invoice_payments.purchase_order_id
            order by invoice_payments.payment_date, invoice_payments.invoice_id
        ) as evidence_rank
    from invoice_payments
    inner join invoices
        on invoice_payments.invoice_id = invoices.invoice_id
    inner join rejections
        on
            invoice_payments.purchase_order_id = rejections.purchase_order_id
            and invoice_payments.payment_date >= rejections.decided_date
    where invoices.invoice_type <> 'AVOIR'
),

final as (
    select
        'paid_after_rejection' as finding_type,
        purchase_order_id as entity_key,
        min(campaign_id) as campaign_id,
        min(order_advertiser_id) as advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        min(payment_date) as first_date,
        max(payment_date) as last_date,
        cast(sum(amount_ttc_eur) as decimal(18, 2)) as amount_at_stake_eur,
        'chorus_pro' as evidence_source,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from paid
    group by purchase_order_id
)

select * from final
