-- EPM (CCAP 11.3.6, annex 7): each commitment judged on the year's delivery of all advertisers for its
-- media type (sums of the monthly campaign KPIs, ratios recomputed on the sums). A year with no
-- measurable delivery for an indicator is not judged (actual null).
with

kpis as (
    select * from {{ ref('fct_campaign_kpis') }}
),

commitments as (
    select * from {{ ref('epm_commitments') }}
),

yearly as (
    select
        media_type,
        cast(extract(year from delivery_month) as integer) as kpi_year,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(measurable_impressions) as measurable_impressions,
        sum(viewable_impressions) as viewable_impressions,
        sum(cost_eur) as cost_eur
    from kpis
    group by media_type, cast(extract(year from delivery_month) as integer)
),

judged as (
    select
        yearly.media_type,
        commitments.indicator,
        yearly.kpi_year,
        commitments.committed_value,
        case commitments.indicator
            when 'cpm_max' then {{ divide('yearly.cost_eur * 1000', 'yearly.impressions') }}
            when 'cpc_max' then {{ divide('yearly.cost_eur', 'yearly.clicks') }}
            when 'ctr_min' then {{ divide('yearly.clicks', 'yearly.impressions') }}
            when 'viewability_min' then {{ divide('yearly.viewable_impressions', 'yearly.measurable_impressions') }}
        end as actual_value
    from yearly
    inner join commitments
        on yearly.media_type = commitments.media_type
),

final as (
    select
        {{ dbt.concat([
            "media_type", "'|'", "indicator", "'|'", "cast(kpi_year as " ~ dbt.type_string() ~ ")"
        ]) }} as epm_key,
        media_type,
        indicator,
        kpi_year,
        committed_value,
        {{ to_decimal('actual_value', 18, 6) }} as actual_value,
        case
            when actual_value is null then null
            when indicator like '%_max' then actual_value <= committed_value
            else actual_value >= committed_value
        end as is_met
    from judged
)

select * from final
