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

final as (
    select
        'late_payment' as finding_type,
        supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        advertiser_id,
        interest_start_date as first_date,
        payment_date as last_date,
        cast(amount_due_eur as decimal(18, 2)) as amount_at_stake_eur,
        'chorus_pro' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        source_line as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from payment_delay_interest
)

select * from final
