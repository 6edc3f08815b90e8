with

source as (
    select * from {{ source('regie', 'invoice_exports') }}
),

renamed as (
    select
        -- ids
        supplier_siret as supplier_id,
        invoice_number,
        {{ dbt.concat(["supplier_siret", "'|'", "invoice_number"]) }} as supplier_invoice_key,
        purchase_order_ref,
        cast(order_line_number as {{ dbt.type_string() }}) as order_line_reference,
        -- text
        document_type,
        description,
        preceding_invoices,
        -- flags
        document_type = 'Avoir' as is_credit_note,
        -- quantities and money
        quantity,
        unit_gross_price_eur,
        price_base_quantity,
        gross_ht_eur,
        volume_discount_eur,
        public_interest_discount_eur,
        professional_discount_eur,
        cumul_mandats_discount_eur,
        net_ht_eur,
        vat_rate_pct,
        vat_eur,
        net_ttc_eur,
        -- dates
        issue_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
