with

source as (
    select * from {{ source('einvoice_quarantine', 'einvoice_rejections') }}
),

renamed as (
    select
        -- ids
        supplier_id,
        invoice_number,
        {{ dbt.concat(["supplier_id", "'|'", "invoice_number"]) }} as supplier_invoice_key,
        -- text
        source as received_from,
        buyer_siret,
        rule,
        column_name as business_term,
        value as detail,
        -- money
        expected_eur,
        stated_eur,
        -- dates
        issue_date,
        -- lineage
        document_name,
        file_sha256 as source_file_sha256,
        file_name as source_file_name
    from source
)

select * from renamed
