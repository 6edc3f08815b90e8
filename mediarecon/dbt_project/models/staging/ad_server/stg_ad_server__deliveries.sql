with

source as (
    select * from {{ source('ad_server', 'ad_server') }}
),

renamed as (
    select
        -- ids
        placement_id,
        creative_id,
        cm360_advertiser_id,
        campaign_id,
        -- the placement's external id is where the agency's trafficker puts the order line id
        nullif(trim(order_line_ref), '') as order_line_ref,
        -- text
        advertiser_name,
        campaign_name,
        placement_name,
        site_name,
        creative_name,
        creative_pixel_size,
        -- metrics
        impressions,
        clicks,
        viewable_impressions,
        media_cost_eur,
        -- Floodlight conversions and revenue (null: the report does not carry them; CM360's total is
        -- click-through + view-through) and rich-media video plays and completions
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
