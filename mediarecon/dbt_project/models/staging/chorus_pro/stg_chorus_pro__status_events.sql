with

source as (
    select * from {{ source('chorus_pro', 'chorus_status_events') }}
),

renamed as (
    select
        -- ids
        status_event_id,
        invoice_id,
        -- text
        status_code,
        status_comment,
        -- timestamps: stored in UTC; the French calendar day is what payment delays count in
        status_at,
        cast({{ local_timestamp('status_at', 'Europe/Paris') }} as date) as status_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
