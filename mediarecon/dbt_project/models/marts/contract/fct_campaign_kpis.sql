-- Campaign KPIs (CCAP 11.3.6, decree 2017-159) per campaign x media type x month, from the results of
-- the order lines (int_order_line_results_sourced: the ad server's, latest version of each report row,
-- conversions attributed by each line's model, and what a régie declares where the ad server measures
-- nothing of the kind; <family>_source says which: ad_server, regie, or mixed when the month's lines
-- differ; impressions, clicks and cost are the ad server's only): impressions, clicks, net media cost, conversions
-- (click-through and view-through kept apart), revenue, video plays and completions, and the ratios of
-- macros/kpi_ratios.sql (CTR, CPM, CPC, CPA, conversion rate, ROAS, viewability, video completion),
-- each null where its base is zero or the report does not carry it.
with

results as (
    select * from {{ ref('int_order_line_results_sourced') }}
),

monthly as (
    select
        campaign_id,
        max(advertiser_id) as advertiser_id,
        media_type,
        cast({{ dbt.date_trunc('month', 'delivery_date') }} as date) as delivery_month,
        case
            when min(attribution_model) = max(attribution_model) then min(attribution_model)
            else 'mixed'
        end as attribution_model,
        {{ results_source_of('conversions') }} as conversions_source,
        {{ results_source_of('revenue_eur') }} as revenue_source,
        {{ results_source_of('video_plays') }} as video_source,
        {{ kpi_sums() }}
    from results
    group by
        campaign_id,
        media_type,
        cast({{ dbt.date_trunc('month', 'delivery_date') }} as date)
),

final as (
    select
        {{ dbt.concat([
            "campaign_id", "'|'", "media_type", "'|'", "cast(delivery_month as " ~ dbt.type_string() ~ ")"
        ]) }} as kpi_key,
        campaign_id,
        advertiser_id,
        media_type,
        delivery_month,
        attribution_model,
        impressions,
        clicks,
        measurable_impressions,
        viewable_impressions,
        cost_eur,
        click_through_conversions,
        view_through_conversions,
        conversions,
        conversions_measured_cost_eur,
        conversions_measured_clicks,
        revenue_eur,
        revenue_measured_cost_eur,
        video_plays,
        video_completions,
        conversions_source,
        revenue_source,
        video_source,
        {{ kpi_ratios() }}
    from monthly
)

select * from final
