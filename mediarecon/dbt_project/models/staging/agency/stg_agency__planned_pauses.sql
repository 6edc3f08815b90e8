with

source as (
    select * from {{ source('agency', 'planned_pauses') }}
),

renamed as (
    select
        -- ids
        campaign_id,
        -- text
        reason,
        -- dates
        pause_start_date,
        pause_end_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
