with

source as (
    select * from {{ source('regie', 'regie_reports') }}
),

renamed as (
    select
        -- ids
        order_line_ref,
        -- text
        campaign_name,
        media_seller_name,
        unit_label,
        -- quantities and money
        delivered_quantity,
        net_ht_eur,
        -- results the régie declares (null: its bilan does not carry them), read as CM360's are
        {{ staged_result_columns() }},
        -- dates
        delivery_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
