with

source as (
    select * from {{ source('chorus_pro', 'chorus_invoices') }}
),

renamed as (
    select
        -- ids
        invoice_id,
        invoice_number,
        supplier_id,
        {{ dbt.concat(["supplier_id", "'|'", "invoice_number"]) }} as supplier_invoice_key,
        recipient_siret,
        recipient_structure_id,
        service_code,
        nullif(trim(purchase_order_ref), '') as purchase_order_ref,
        contract_number,
        -- text
        invoice_type,
        current_status,
        supplier_id_type,
        supplier_name,
        currency,
        -- money
        amount_ht_eur,
        vat_eur,
        amount_ttc_eur,
        amount_payable_eur,
        -- dates
        invoice_date,
        deposit_date,
        current_status_at,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
