-- Finding late_payment. Rule: CCAP 12.4.3, the State pays within 30 days (50 for public health bodies);
-- later, moratory interest and the 40 EUR recovery indemnity are due (computed in
-- fct_payment_delay_interest).
-- Grain: one row per invoice paid late; entity_key = supplier_id|invoice_number; first_date = the first
-- day of interest, last_date = the payment date; amount = moratory interest + the 40 EUR indemnity;
-- advertiser = the invoice's recipient.
with

payment_delay_interest as (
    select * from {{ ref('fct_payment_delay_interest') }}
),

invoice_payments as (
    select * from {{ ref('fct_invoice_payments') }}
),

media_sellers as (
    select * from {{ ref('media_sellers') }}
),

final as (
    select
        'late_payment' as finding_type,
        payment_delay_interest.supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        payment_delay_interest.advertiser_id,
        media_sellers.media_seller_id,
        payment_delay_interest.interest_start_date as first_date,
        payment_delay_interest.payment_date as last_date,
        cast(payment_delay_interest.amount_due_eur as decimal(18, 2)) as amount_at_stake_eur,
        'chorus_pro' as evidence_source,
        payment_delay_interest.source_file_sha256 as evidence_file_sha256,
        payment_delay_interest.source_line as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from payment_delay_interest
    left join invoice_payments
        on payment_delay_interest.invoice_id = invoice_payments.invoice_id
    left join media_sellers
        on invoice_payments.supplier_id = media_sellers.siret
)

select * from final
