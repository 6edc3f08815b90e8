-- Finding invoice_blocked. Rule: no CCAP article of its own; an invoice held in a blocking Chorus Pro
-- status (rejected, suspended, returned for re-routing) for more than var invoice_blocked_days (15) days
-- stalls the 30-day payment delay of CCAP 12.4.3.
-- Grain: one row per stay of an invoice in a blocking status longer than that; entity_key =
-- supplier_id|invoice_number; first_date = the day it entered the status, last_date = the day it left it
-- (or the same day while it stays); no amount; advertiser = the invoice's recipient.
with

invoice_status_history as (
    select * from {{ ref('fct_invoice_status_history') }}
),

invoice_payments as (
    select * from {{ ref('fct_invoice_payments') }}
),

media_sellers as (
    select * from {{ ref('media_sellers') }}
),

final as (
    select
        'invoice_blocked' as finding_type,
        invoice_status_history.supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        invoice_payments.advertiser_id,
        media_sellers.media_seller_id,
        invoice_status_history.status_date as first_date,
        coalesce(invoice_status_history.next_status_date, invoice_status_history.status_date) as last_date,
        cast(null as decimal(18, 2)) as amount_at_stake_eur,
        'chorus_pro' as evidence_source,
        invoice_status_history.source_file_sha256 as evidence_file_sha256,
        invoice_status_history.source_line as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from invoice_status_history
    left join invoice_payments
        on invoice_status_history.invoice_id = invoice_payments.invoice_id
    left join media_sellers
        on invoice_status_history.supplier_id = media_sellers.siret
    where
        invoice_status_history.is_blocking
        and invoice_status_history.days_in_status > {{ var('invoice_blocked_days') }}
)

select * from final
