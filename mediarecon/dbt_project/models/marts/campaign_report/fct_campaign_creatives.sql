-- The messages and formats of each campaign (decree 2017-159, 1° b and c): every creative the ad server
-- delivered, with its format (CM360's Creative Pixel Size; null when the reports do not carry it).
with

deliveries as (
    select * from {{ ref('int_ad_server_deliveries_deduplicated') }}
),

final as (
    select
        {{ dbt.concat(["campaign_id", "'|'", "creative_id"]) }} as campaign_creative_key,
        campaign_id,
        min(advertiser_id) as advertiser_id,
        creative_id,
        -- a creative renamed in a later report keeps one name: the latest one
        max(creative_name) as creative_name,
        max(creative_pixel_size) as creative_pixel_size,
        {{ delivery_totals() }}
    from deliveries
    where campaign_id is not null
    group by campaign_id, creative_id
)

select * from final
