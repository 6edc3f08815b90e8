with

source as (
    select * from {{ source('advertiser', 'admission_decisions') }}
),

renamed as (
    select
        -- ids
        purchase_order_id,
        -- text
        case when decision = 'réfaction' then 'refaction' else decision end as decision,
        reason,
        decided_by,
        -- amounts
        refaction_eur,
        -- timestamps
        decided_at,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
