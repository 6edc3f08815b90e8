-- Finding duplicate_invoice. Rule: CCAP 12.4.4 (1), one payment request per service executed: the second
-- copy of an invoice (the same supplier and number deposited again, or the same content under a new
-- number; int_invoices_identified) must not be paid twice.
-- Grain: one row per duplicate copy; entity_key = supplier_id|invoice_number of that copy; amount = its
-- TTC (what paying it twice would cost).
with

invoices as (
    select * from {{ ref('int_invoices_identified') }}
),

final as (
    select
        'duplicate_invoice' as finding_type,
        supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        issue_date as first_date,
        issue_date as last_date,
        cast(tax_inclusive_eur as decimal(18, 2)) as amount_at_stake_eur,
        case when received_via = 'export' then 'regie' else 'einvoice' end as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from invoices
    where is_duplicate
)

select * from final
