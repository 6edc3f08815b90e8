-- Ad-server report rows at their own grain (placement x creative x day), the latest version of a re-sent
-- report kept: the one place a year of ad-server rows is deduplicated (int_deliveries_unioned and
-- int_ad_server_results_attributed read it; each deduplicating on its own cost the build two more passes
-- over every row). With the counts, the results and the order line the report names, and what the campaign
-- report and brand safety need: the site (lower-case, as exclusion lists are matched), the creative and its
-- format, the campaign's advertiser (as the orders say; null for a campaign they do not know).
{#- the columns used below, read by each of keep_one_version's three reads -#}
{%- set ad_server_rows -%}
    (
        select
            delivery_date, placement_id, creative_id, order_line_ref, campaign_id, site_name, creative_name,
            creative_pixel_size, impressions, clicks, viewable_impressions, media_cost_eur, total_conversions,
            click_through_conversions, view_through_conversions, total_revenue_eur, click_through_revenue_eur,
            view_through_revenue_eur, video_plays, video_completions, received_at, source_file_sha256, source_line
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
        ad_server_latest.order_line_ref,
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
        ad_server_latest.viewable_impressions,
        ad_server_latest.media_cost_eur,
        ad_server_latest.total_conversions,
        ad_server_latest.click_through_conversions,
        ad_server_latest.view_through_conversions,
        ad_server_latest.total_revenue_eur,
        ad_server_latest.click_through_revenue_eur,
        ad_server_latest.view_through_revenue_eur,
        ad_server_latest.video_plays,
        ad_server_latest.video_completions,
        ad_server_latest.source_file_sha256,
        ad_server_latest.source_line
    from ad_server_latest
    left join campaigns
        on ad_server_latest.campaign_id = campaigns.campaign_id
)

select * from final
