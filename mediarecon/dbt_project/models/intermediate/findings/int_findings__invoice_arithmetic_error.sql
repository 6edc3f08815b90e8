-- Finding invoice_arithmetic_error. Rule: CCAP 12.4.4 (2), invoices reach the State as e-invoices in the
-- standard format (EN 16931): a document whose totals break its arithmetic (rules BR-CO-10 to BR-CO-16)
-- is quarantined, not counted as invoiced.
-- Grain: one row per invoice (supplier_id|invoice_number) with a BR-CO rejection, every copy of it
-- together; amount = the smallest gap between expected and stated totals.
with

einvoice_rejections as (
    select * from {{ ref('stg_einvoice__rejections') }}
),

final as (
    select
        'invoice_arithmetic_error' as finding_type,
        supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        min(issue_date) as first_date,
        min(issue_date) as last_date,
        cast(min(abs(expected_eur - stated_eur)) as decimal(18, 2)) as amount_at_stake_eur,
        'einvoice' as evidence_source,
        min(source_file_sha256) as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from einvoice_rejections
    where rule like 'BR-CO-%' and supplier_invoice_key is not null
    group by supplier_invoice_key
)

select * from final
