-- Ad-server report rows at their own grain (placement x creative x day), the latest version of a re-sent
-- report kept, with what the campaign report and brand safety need beside the counts: the site (lower-case,
-- as exclusion lists are matched), the creative and its format, the campaign's advertiser (as the orders
-- say; null for a campaign they do not know).
{#- the columns used below, read by each of keep_one_version's three reads -#}
{%- set ad_server_rows -%}
    (
        select
            delivery_date, placement_id, creative_id, campaign_id, site_name, creative_name, creative_pixel_size,
            impressions, clicks, media_cost_eur, received_at, source_file_sha256, source_line
        from {{ ref('stg_ad_server__deliveries') }}
    )
{%- endset %}

with

ad_server_latest as (
    {{ keep_one_version(ad_server_rows, ['delivery_date', 'placement_id', 'creative_id'], repeats_only=true) }}
),

campaigns as (
    select * from {{ ref('int_campaigns_attributed') }}
),

final as (
    select
        {{ dbt.concat([
            "ad_server_latest.placement_id", "'|'", "ad_server_latest.creative_id", "'|'",
            "cast(ad_server_latest.delivery_date as " ~ dbt.type_string() ~ ")"
        ]) }} as delivery_row_key,
        ad_server_latest.campaign_id,
        campaigns.advertiser_id,
        ad_server_latest.placement_id,
        ad_server_latest.creative_id,
        lower(ad_server_latest.site_name) as site_name,
        ad_server_latest.creative_name,
        ad_server_latest.creative_pixel_size,
        ad_server_latest.delivery_date,
        ad_server_latest.impressions,
        ad_server_latest.clicks,
        ad_server_latest.media_cost_eur,
        ad_server_latest.source_file_sha256,
        ad_server_latest.source_line
    from ad_server_latest
    left join campaigns
        on ad_server_latest.campaign_id = campaigns.campaign_id
)

select * from final
