with

source as (
    select * from {{ source('einvoice', 'einvoice_documents') }}
),

renamed as (
    select
        -- ids
        document_fingerprint,
        content_fingerprint,
        chorus_invoice_id,
        supplier_id,
        invoice_number,
        {{ dbt.concat(["supplier_id", "'|'", "invoice_number"]) }} as supplier_invoice_key,
        order_reference as purchase_order_ref,
        buyer_reference as service_code,
        -- text
        received_via,
        syntax,
        supplier_siret,
        supplier_name,
        buyer_siret,
        buyer_name,
        type_code,
        currency,
        preceding_invoices,
        -- flags
        is_credit_note,
        -- money
        line_extension_eur,
        tax_exclusive_eur,
        tax_eur,
        tax_inclusive_eur,
        payable_eur,
        -- dates
        issue_date,
        -- lineage
        document_name,
        _source_file_sha256 as source_file_sha256,
        _source_file_name as source_file_name,
        _received_at as received_at
    from source
)

select * from renamed
