-- Results against objectives rolled up per advertiser x media type x month: the month's ad-server
-- results (fct_campaign_kpis summed, ratios recomputed on the sums by macros/kpi_ratios.sql) and the
-- objectives of the order lines that ended in the month (fct_campaign_objectives): how many were judged,
-- met, missed and not measurable, and the euros of the misses.
with

kpis as (
    select * from {{ ref('fct_campaign_kpis') }}
),

objectives as (
    select * from {{ ref('fct_campaign_objectives') }}
),

results as (
    select
        advertiser_id,
        media_type,
        delivery_month as result_month,
        {{ kpi_sums() }}
    from kpis
    where advertiser_id is not null
    group by advertiser_id, media_type, delivery_month
),

judged as (
    select
        advertiser_id,
        media_type,
        cast({{ dbt.date_trunc('month', 'end_date') }} as date) as result_month,
        cast(count(*) as bigint) as objectives,
        cast(sum(case when status = 'met' then 1 else 0 end) as bigint) as objectives_met,
        cast(sum(case when status = 'missed' then 1 else 0 end) as bigint) as objectives_missed,
        cast(sum(case when status = 'not_measurable' then 1 else 0 end) as bigint) as objectives_not_measurable,
        cast(sum(case when status = 'missed' then deviation_eur else 0 end) as decimal(18, 2))
            as missed_deviation_eur
    from objectives
    where advertiser_id is not null
    group by advertiser_id, media_type, cast({{ dbt.date_trunc('month', 'end_date') }} as date)
),

keys as (
    select
        advertiser_id,
        media_type,
        result_month
    from results
    union
    select
        advertiser_id,
        media_type,
        result_month
    from judged
),

totals as (
    select
        keys.advertiser_id,
        keys.media_type,
        keys.result_month,
        coalesce(results.impressions, 0) as impressions,
        coalesce(results.clicks, 0) as clicks,
        results.measurable_impressions,
        results.viewable_impressions,
        coalesce(results.cost_eur, 0) as cost_eur,
        results.click_through_conversions,
        results.view_through_conversions,
        results.conversions,
        results.conversions_measured_cost_eur,
        results.conversions_measured_clicks,
        results.revenue_eur,
        results.revenue_measured_cost_eur,
        results.video_plays,
        results.video_completions,
        coalesce(judged.objectives, 0) as objectives,
        coalesce(judged.objectives_met, 0) as objectives_met,
        coalesce(judged.objectives_missed, 0) as objectives_missed,
        coalesce(judged.objectives_not_measurable, 0) as objectives_not_measurable,
        coalesce(judged.missed_deviation_eur, 0) as missed_deviation_eur
    from keys
    left join results
        on
            keys.advertiser_id = results.advertiser_id
            and keys.media_type = results.media_type
            and keys.result_month = results.result_month
    left join judged
        on
            keys.advertiser_id = judged.advertiser_id
            and keys.media_type = judged.media_type
            and keys.result_month = judged.result_month
),

final as (
    select
        {{ dbt.concat([
            "advertiser_id", "'|'", "media_type", "'|'", "cast(result_month as " ~ dbt.type_string() ~ ")"
        ]) }} as result_key,
        advertiser_id,
        media_type,
        result_month,
        impressions,
        clicks,
        cost_eur,
        click_through_conversions,
        view_through_conversions,
        conversions,
        revenue_eur,
        video_plays,
        video_completions,
        {{ kpi_ratios() }},
        objectives,
        objectives_met,
        objectives_missed,
        objectives_not_measurable,
        missed_deviation_eur
    from totals
)

select * from final
