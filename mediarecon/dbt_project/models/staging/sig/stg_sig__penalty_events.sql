with

source as (
    select * from {{ source('sig', 'penalty_events') }}
),

renamed as (
    select
        -- ids
        purchase_order_id,
        -- text
        event_type,
        reason,
        -- quantities
        level,
        -- dates
        event_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
