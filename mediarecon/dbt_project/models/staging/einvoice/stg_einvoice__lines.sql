with

source as (
    select * from {{ source('einvoice', 'einvoice_lines') }}
),

renamed as (
    select
        -- ids
        document_fingerprint,
        line_id,
        order_line_reference,
        -- text
        description,
        unit_code,
        vat_category,
        -- quantities and money
        quantity,
        net_price_eur,
        coalesce(price_base_quantity, 1) as price_base_quantity,
        gross_price_eur,
        price_discount_eur,
        net_amount_eur,
        vat_rate_pct,
        -- lineage
        document_name,
        _source_file_sha256 as source_file_sha256
    from source
)

select * from renamed
