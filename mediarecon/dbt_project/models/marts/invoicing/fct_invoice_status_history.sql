-- Blocked rule: an invoice is blocked while it is REJETEE, SUSPENDUE or A_RECYCLER; the time in a
-- status runs to the next status (or, for the current one, to as_of_date), in French calendar days.
with

events as (
    select * from {{ ref('int_invoice_status_events_deduplicated') }}
),

invoices as (
    select * from {{ ref('int_invoices_deduplicated') }}
),

sequenced as (
    select
        *,
        lead(status_at) over (partition by invoice_id order by status_at, status_event_id) as next_status_at,
        lead(status_date) over (partition by invoice_id order by status_at, status_event_id) as next_status_date,
        lead(status_code) over (partition by invoice_id order by status_at, status_event_id) as next_status_code
    from events
),

final as (
    select
        sequenced.status_event_id,
        sequenced.invoice_id,
        invoices.supplier_invoice_key,
        invoices.supplier_id,
        invoices.invoice_number,
        sequenced.status_code,
        sequenced.status_at,
        sequenced.status_date,
        sequenced.next_status_code,
        sequenced.next_status_at,
        sequenced.next_status_date,
        sequenced.next_status_at is null as is_current,
        sequenced.status_code in ('REJETEE', 'SUSPENDUE', 'A_RECYCLER') as is_blocking,
        cast({{ dbt.datediff(
            'sequenced.status_date',
            "coalesce(sequenced.next_status_date, cast('" ~ var('as_of_date') ~ "' as date))",
            'day'
        ) }} as integer) as days_in_status,
        sequenced.source_file_sha256,
        sequenced.source_line
    from sequenced
    inner join invoices
        on sequenced.invoice_id = invoices.invoice_id
)

select * from final
