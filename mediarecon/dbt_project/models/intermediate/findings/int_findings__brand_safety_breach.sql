-- Finding brand_safety_breach. Rule: decree 2017-159, 3° (quoted in CCAP 11.10.3): the agency keeps the ads
-- off the universes the advertiser named as harmful to its image (its exclusion list, source brand_safety).
-- A delivery of one of the advertiser's campaigns on an excluded site, on or after the date it was excluded,
-- is a breach: the site itself (kind site), the domain or one of its sub-domains (domaine), or a site of an
-- excluded group (groupe, seed site_groups). A row matching several entries counts once.
-- Grain: one row per campaign x excluded site delivered on; entity_key = campaign_id|site (lower-case);
-- amount = the media cost of those deliveries; evidence = the first such report row; advertiser = the
-- campaign's.
with

deliveries as (
    select * from {{ ref('int_ad_server_deliveries_deduplicated') }}
),

exclusions as (
    select * from {{ ref('dim_brand_safety_exclusions') }}
),

site_groups as (
    select * from {{ ref('site_groups') }}
),

breaching_rows as (
    select distinct
        deliveries.delivery_row_key,
        deliveries.campaign_id,
        deliveries.advertiser_id,
        deliveries.site_name,
        deliveries.delivery_date,
        deliveries.media_cost_eur,
        deliveries.source_file_sha256,
        deliveries.source_line
    from deliveries
    left join site_groups
        on deliveries.site_name = lower(site_groups.site_name)
    inner join exclusions
        on
            deliveries.advertiser_id = exclusions.advertiser_id
            and deliveries.delivery_date >= exclusions.excluded_since_date
            and (
                (exclusions.exclusion_kind = 'site' and deliveries.site_name = exclusions.excluded_value)
                or (
                    exclusions.exclusion_kind = 'domaine'
                    and (
                        deliveries.site_name = exclusions.excluded_value
                        or deliveries.site_name like {{ dbt.concat(["'%.'", "exclusions.excluded_value"]) }}
                    )
                )
                or (exclusions.exclusion_kind = 'groupe' and lower(site_groups.site_group) = exclusions.excluded_value)
            )
    where deliveries.impressions > 0
),

ranked as (
    select
        *,
        row_number() over (
            partition by campaign_id, site_name
            order by delivery_date, source_file_sha256, source_line
        ) as evidence_rank
    from breaching_rows
),

final as (
    select
        'brand_safety_breach' as finding_type,
        {{ dbt.concat(["campaign_id", "'|'", "site_name"]) }} as entity_key,
        campaign_id,
        min(advertiser_id) as advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        min(delivery_date) as first_date,
        max(delivery_date) as last_date,
        cast(sum(media_cost_eur) as decimal(18, 2)) as amount_at_stake_eur,
        'ad_server' as evidence_source,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from ranked
    group by campaign_id, site_name
)

select * from final
