-- The diffusion universe of each campaign (decree 2017-159, 1° a): the sites the ad server delivered on,
-- with their group of sites (seed site_groups; null when the seed does not know the site).
with

deliveries as (
    select * from {{ ref('int_ad_server_deliveries_deduplicated') }}
),

site_groups as (
    select * from {{ ref('site_groups') }}
),

per_site as (
    select
        campaign_id,
        site_name,
        min(advertiser_id) as advertiser_id,
        {{ delivery_totals() }}
    from deliveries
    where campaign_id is not null
    group by campaign_id, site_name
),

final as (
    select
        {{ dbt.concat(["per_site.campaign_id", "'|'", "per_site.site_name"]) }} as campaign_site_key,
        per_site.campaign_id,
        per_site.advertiser_id,
        per_site.site_name,
        site_groups.site_group,
        site_groups.site_group_label_fr,
        per_site.first_date,
        per_site.last_date,
        per_site.impressions,
        per_site.clicks,
        per_site.cost_eur
    from per_site
    left join site_groups
        on per_site.site_name = lower(site_groups.site_name)
)

select * from final
