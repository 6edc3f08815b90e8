-- The brand-safety exclusion lists in force (decree 2017-159, 3°): one row per advertiser x kind x excluded
-- value; an entry received again (a corrected date or reason) replaces the earlier one.
with

latest as (
    {{ keep_one_version(ref('stg_advertiser__brand_safety_exclusions'),
                        ['advertiser_siret', 'exclusion_kind', 'excluded_value']) }}
),

advertisers as (
    select * from {{ ref('advertisers') }}
),

final as (
    select
        {{ dbt.concat([
            "latest.advertiser_siret", "'|'", "latest.exclusion_kind", "'|'", "latest.excluded_value"
        ]) }} as exclusion_key,
        advertisers.advertiser_id,
        latest.advertiser_siret,
        latest.exclusion_kind,
        latest.excluded_value,
        latest.excluded_since_date,
        latest.reason,
        latest.source_file_sha256,
        latest.source_line
    from latest
    -- left: an unknown SIRET keeps its row without advertiser (its relationship test names it)
    left join advertisers
        on latest.advertiser_siret = advertisers.siret
)

select * from final
