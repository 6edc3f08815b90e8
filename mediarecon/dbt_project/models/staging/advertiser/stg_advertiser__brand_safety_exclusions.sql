with

source as (
    select * from {{ source('advertiser', 'brand_safety') }}
),

renamed as (
    select
        -- ids
        advertiser_siret,
        -- text
        exclusion_kind,
        lower(excluded_value) as excluded_value,
        reason,
        -- dates
        excluded_since_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
