with

source as (
    select * from {{ source('einvoice', 'einvoice_allowances') }}
),

renamed as (
    select
        -- ids
        document_fingerprint,
        line_id,
        -- text
        reason,
        reason_code,
        -- flags
        is_charge,
        -- money
        amount_eur,
        base_amount_eur,
        percent,
        -- lineage
        document_name,
        _source_file_sha256 as source_file_sha256
    from source
)

select * from renamed
