with

source as (
    select * from {{ source('sig', 'forbidden_campaigns') }}
),

renamed as (
    select
        -- ids
        campaign_id,
        advertiser_short_name,
        -- text
        reason,
        -- dates
        forbidden_since_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
