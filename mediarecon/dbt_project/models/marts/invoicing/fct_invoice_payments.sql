-- Payment delay rule (CCAP 12.4.3): the State pays within payment_delay_days (50 for public health
-- bodies) of receiving the invoice. Received = the day it was last made available to the recipient
-- (MISE_A_DISPOSITION) before payment: a suspension or a return stops the clock, which restarts when
-- the invoice is made available again. Paid = the day of MISE_EN_PAIEMENT.
with

invoices as (
    select * from {{ ref('int_invoices_deduplicated') }}
),

events as (
    select * from {{ ref('int_invoice_status_events_deduplicated') }}
),

purchase_orders as (
    select * from {{ ref('int_purchase_orders_deduplicated') }}
),

advertisers as (
    select * from {{ ref('advertisers') }}
),

paid as (
    select
        invoice_id,
        min(status_at) as paid_at,
        min(status_date) as payment_date
    from events
    where status_code = 'MISE_EN_PAIEMENT'
    group by invoice_id
),

received as (
    select
        events.invoice_id,
        max(events.status_date) as received_date
    from events
    left join paid
        on events.invoice_id = paid.invoice_id
    where
        events.status_code = 'MISE_A_DISPOSITION'
        and (paid.paid_at is null or events.status_at <= paid.paid_at)
    group by events.invoice_id
),

measured as (
    select
        invoices.invoice_id,
        invoices.supplier_invoice_key,
        invoices.supplier_id,
        invoices.invoice_number,
        invoices.recipient_siret,
        advertisers.advertiser_id,
        invoices.purchase_order_ref,
        purchase_orders.purchase_order_id,
        invoices.current_status,
        invoices.amount_ht_eur,
        invoices.amount_ttc_eur,
        invoices.invoice_date,
        invoices.deposit_date,
        received.received_date,
        paid.payment_date,
        case
            when advertisers.is_health_body then {{ var('payment_delay_days_health_body') }}
            else {{ var('payment_delay_days') }}
        end as legal_delay_days,
        invoices.source_file_sha256,
        invoices.source_line
    from invoices
    left join purchase_orders
        on invoices.purchase_order_ref = purchase_orders.purchase_order_id
    left join advertisers
        on invoices.recipient_siret = advertisers.siret
    left join received
        on invoices.invoice_id = received.invoice_id
    left join paid
        on invoices.invoice_id = paid.invoice_id
),

timed as (
    select
        *,
        {{ dbt.datediff('received_date', 'payment_date', 'day') }} as days_to_pay  -- noqa: LT05
    from measured
),

final as (
    select
        invoice_id,
        supplier_invoice_key,
        supplier_id,
        invoice_number,
        recipient_siret,
        advertiser_id,
        purchase_order_ref,
        purchase_order_id,
        purchase_order_id is not null as has_known_order,
        current_status,
        amount_ht_eur,
        amount_ttc_eur,
        invoice_date,
        deposit_date,
        received_date,
        payment_date,
        payment_date is not null as is_paid,
        legal_delay_days,
        cast({{ dbt.dateadd('day', 'legal_delay_days', 'received_date') }} as date) as payment_due_date,
        cast(days_to_pay as integer) as days_to_pay,
        cast(
            case when days_to_pay > legal_delay_days then days_to_pay - legal_delay_days else 0 end
            as integer
        ) as days_late,
        coalesce(days_to_pay > legal_delay_days, false) as is_paid_late,
        source_file_sha256,
        source_line
    from timed
)

select * from final
