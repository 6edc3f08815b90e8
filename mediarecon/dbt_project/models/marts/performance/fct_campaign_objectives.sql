-- Results against objectives ("interpréter les écarts de résultats par rapport aux objectifs"): each
-- objective an order line states (the agency's order-lines export) judged on what the line achieved.
-- Rule (the one place it lives), per indicator, the achieved value in the target's unit:
--   volume_min            delivered quantity in the line's buying unit (fct_order_line_delivery)
--   cpm_max, cpc_max      ad-server cost x 1000 / impressions, cost / clicks
--   cpa_max               cost of the rows measuring conversions / conversions attributed by the line's model
--                         (ad server, else a régie's declaration: int_order_line_results_sourced; counted
--                         within the attribution window as far as daily reports allow)
--   ctr_min               clicks / impressions, in %
--   completion_rate_min   video completions / plays, in %
-- deviation_pct = (achieved - objective) / objective x 100. deviation_eur is what the shortfall is worth,
-- positive when the objective is missed: for a cost objective, what was paid above the objective's price
-- for what was obtained (cost - objective x quantity: the whole cost when nothing was obtained); for a
-- volume, the missing units at the line's net unit price; for a rate, the share of the cost the missing
-- clicks or completions stand for (cost x (objective - achieved) / objective). status: not_measurable
-- when the base was not measured (no ad-server delivery, no impressions, no plays, conversions not in the
-- report, or only their total when the model is last click), missed when deviation_eur > 0, else met.
-- likely_cause of a miss, the first the data shows: for a volume, a delivery drop of the campaign, a
-- planned pause, or the line's under-delivery, during the flight; for a cost, a CPC change (a CPC-priced
-- line whose cost per click over its last 7 delivery days differs by more than var
-- objective_cpc_change_pct % from its first 7).
-- achieved_source names where the achieved value comes from: the line's delivery source for a volume
-- (fct_order_line_delivery), the ad server for CPM, CPC and CTR, the source of the conversions or of the
-- video plays for CPA and completion (ad_server, or regie when the ad server measures none: the régie's
-- net is then the cost of a completion shortfall). For a CPA, attribution_window_status says what the
-- line's window could do: applied_after_last_exposure (ad-server conversions reported more than the
-- window after the line's last impressions left out, conversions_beyond_window of them; within it,
-- CM360's own lookback), not_checkable (a régie's declaration per diffusion day), no_window (none stated).
with

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

order_line_delivery as (
    select * from {{ ref('fct_order_line_delivery') }}
),

results as (
    select * from {{ ref('int_order_line_results_sourced') }}
),

volume_drops as (
    select * from {{ ref('int_findings__volume_drops') }}
),

planned_pauses as (
    select * from {{ ref('stg_agency__planned_pauses') }}
),

line_results as (
    select
        order_line_id,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks,
        cast(sum(cost_eur) as decimal(18, 2)) as cost_eur,
        cast(sum(conversions) as bigint) as conversions,
        cast(sum(conversions_measured_cost_eur) as decimal(18, 2)) as conversions_measured_cost_eur,
        cast(sum(video_plays) as bigint) as video_plays,
        cast(sum(video_completions) as bigint) as video_completions,
        cast(sum(conversions_beyond_window) as bigint) as conversions_beyond_window,
        cast(sum(case when video_plays is not null then regie_net_ht_eur end) as decimal(18, 2))
            as regie_video_cost_eur,
        {{ results_source_of('conversions') }} as conversions_source,
        {{ results_source_of('video_plays') }} as video_source
    from results
    group by order_line_id
),

-- cost per click of a CPC-priced line over its first and its last 7 days of delivery
days_ranked as (
    select
        order_line_id,
        clicks,
        cost_eur,
        row_number() over (partition by order_line_id order by delivery_date) as day_from_start,
        row_number() over (partition by order_line_id order by delivery_date desc) as day_from_end
    from results
    where pricing_basis = 'cpc' and results_source = 'ad_server'
),

cpc_periods as (
    select
        order_line_id,
        {{ divide('sum(case when day_from_start <= 7 then cost_eur end)',
                  'sum(case when day_from_start <= 7 then clicks end)') }} as first_cpc_eur,
        {{ divide('sum(case when day_from_end <= 7 then cost_eur end)',
                  'sum(case when day_from_end <= 7 then clicks end)') }} as last_cpc_eur
    from days_ranked
    group by order_line_id
    having count(*) >= 14
),

lines as (
    select
        order_lines.order_line_id,
        order_lines.purchase_order_id,
        order_lines.campaign_id,
        order_lines.advertiser_id,
        order_lines.media_seller_id,
        order_lines.media_type,
        order_lines.pricing_basis,
        order_lines.start_date,
        order_lines.end_date,
        order_lines.target_volume,
        order_lines.target_cpm_eur,
        order_lines.target_cpc_eur,
        order_lines.target_cpa_eur,
        order_lines.target_ctr_pct,
        order_lines.target_completion_rate_pct,
        order_lines.attribution_model,
        order_lines.attribution_window_days,
        order_lines.source_file_sha256,
        order_lines.source_line,
        order_line_delivery.ordered_quantity,
        order_line_delivery.ordered_net_ht_eur,
        order_line_delivery.delivered_quantity,
        order_line_delivery.delivery_status,
        order_line_delivery.delivery_source,
        line_results.impressions,
        line_results.clicks,
        line_results.cost_eur,
        line_results.conversions,
        line_results.conversions_measured_cost_eur,
        line_results.video_plays,
        line_results.video_completions,
        line_results.conversions_beyond_window,
        line_results.regie_video_cost_eur,
        line_results.conversions_source,
        line_results.video_source,
        cpc_periods.first_cpc_eur,
        cpc_periods.last_cpc_eur
    from order_lines
    inner join order_line_delivery
        on order_lines.order_line_id = order_line_delivery.order_line_id
    left join line_results
        on order_lines.order_line_id = line_results.order_line_id
    left join cpc_periods
        on order_lines.order_line_id = cpc_periods.order_line_id
),

judged as (
    select
        lines.*,
        'volume_min' as indicator,
        cast(lines.target_volume as double) as objective_value,
        cast(coalesce(lines.delivered_quantity, 0) as double) as achieved_value,
        true as is_measurable,
        lines.delivery_source as achieved_source,
        {{ divide('(lines.target_volume - coalesce(lines.delivered_quantity, 0)) * lines.ordered_net_ht_eur',
                  'lines.ordered_quantity') }} as deviation_value_eur
    from lines
    where lines.target_volume is not null
    union all
    select
        lines.*,
        'cpm_max' as indicator,
        cast(lines.target_cpm_eur as double) as objective_value,
        {{ divide('lines.cost_eur * 1000', 'lines.impressions') }} as achieved_value,
        coalesce(lines.impressions, 0) > 0 as is_measurable,
        'ad_server' as achieved_source,
        {{ divide('lines.cost_eur * 1000 - lines.target_cpm_eur * lines.impressions', 1000) }}
            as deviation_value_eur
    from lines
    where lines.target_cpm_eur is not null
    union all
    select
        lines.*,
        'cpc_max' as indicator,
        cast(lines.target_cpc_eur as double) as objective_value,
        {{ divide('lines.cost_eur', 'lines.clicks') }} as achieved_value,
        coalesce(lines.impressions, 0) > 0 as is_measurable,
        'ad_server' as achieved_source,
        cast(lines.cost_eur - lines.target_cpc_eur * lines.clicks as double) as deviation_value_eur
    from lines
    where lines.target_cpc_eur is not null
    union all
    select
        lines.*,
        'cpa_max' as indicator,
        cast(lines.target_cpa_eur as double) as objective_value,
        {{ divide('lines.conversions_measured_cost_eur', 'lines.conversions') }} as achieved_value,
        coalesce(lines.conversions_measured_cost_eur, 0) > 0 or coalesce(lines.conversions, 0) > 0
            as is_measurable,
        lines.conversions_source as achieved_source,
        cast(lines.conversions_measured_cost_eur - lines.target_cpa_eur * lines.conversions as double)
            as deviation_value_eur
    from lines
    where lines.target_cpa_eur is not null
    union all
    select
        lines.*,
        'ctr_min' as indicator,
        cast(lines.target_ctr_pct as double) as objective_value,
        {{ divide('lines.clicks * 100', 'lines.impressions') }} as achieved_value,
        coalesce(lines.impressions, 0) > 0 as is_measurable,
        'ad_server' as achieved_source,
        {{ divide(
            'cast(lines.cost_eur as double) * (cast(lines.target_ctr_pct as double) * lines.impressions'
            ~ ' - 100 * lines.clicks)',
            'cast(lines.target_ctr_pct as double) * lines.impressions'
        ) }} as deviation_value_eur
    from lines
    where lines.target_ctr_pct is not null
    union all
    select
        lines.*,
        'completion_rate_min' as indicator,
        cast(lines.target_completion_rate_pct as double) as objective_value,
        {{ divide('lines.video_completions * 100', 'lines.video_plays') }} as achieved_value,
        coalesce(lines.video_plays, 0) > 0 as is_measurable,
        lines.video_source as achieved_source,
        {{ divide(
            'cast(coalesce(lines.cost_eur, lines.regie_video_cost_eur) as double)'
            ~ ' * (cast(lines.target_completion_rate_pct as double) * lines.video_plays'
            ~ ' - 100 * lines.video_completions)',
            'cast(lines.target_completion_rate_pct as double) * lines.video_plays'
        ) }} as deviation_value_eur
    from lines
    where lines.target_completion_rate_pct is not null
),

statused as (
    select
        judged.*,
        {{ to_decimal('judged.deviation_value_eur', 18, 2) }} as deviation_eur,
        case
            when not judged.is_measurable then 'not_measurable'
            when {{ to_decimal('judged.deviation_value_eur', 18, 2) }} > 0 then 'missed'
            else 'met'
        end as status
    from judged
),

causes as (
    select
        statused.order_line_id,
        statused.indicator,
        max(case when volume_drops.entity_key is not null then 1 else 0 end) as has_delivery_drop,
        max(case when planned_pauses.campaign_id is not null then 1 else 0 end) as has_planned_pause
    from statused
    left join volume_drops
        on
            volume_drops.finding_type = 'delivery_drop'
            and statused.campaign_id = volume_drops.entity_key
            and statused.start_date <= volume_drops.last_date
            and statused.end_date >= volume_drops.first_date
    left join planned_pauses
        on
            statused.campaign_id = planned_pauses.campaign_id
            and statused.start_date <= planned_pauses.pause_end_date
            and statused.end_date >= planned_pauses.pause_start_date
    where statused.status = 'missed' and statused.indicator = 'volume_min'
    group by statused.order_line_id, statused.indicator
),

final as (
    select
        {{ dbt.concat(["statused.order_line_id", "'|'", "statused.indicator"]) }} as objective_key,
        statused.order_line_id,
        statused.purchase_order_id,
        statused.campaign_id,
        statused.advertiser_id,
        statused.media_seller_id,
        statused.media_type,
        statused.start_date,
        statused.end_date,
        statused.delivery_status,
        statused.indicator,
        statused.attribution_model,
        statused.attribution_window_days,
        case
            when statused.indicator <> 'cpa_max' or not statused.is_measurable then null
            when statused.attribution_window_days is null then 'no_window'
            when statused.achieved_source = 'regie' then 'not_checkable'
            else 'applied_after_last_exposure'
        end as attribution_window_status,
        case when statused.indicator = 'cpa_max' and statused.is_measurable then statused.conversions_beyond_window end
            as conversions_beyond_window,
        {{ to_decimal('statused.objective_value', 18, 4) }} as objective_value,
        case when statused.is_measurable then {{ to_decimal('statused.achieved_value', 18, 6) }} end
            as achieved_value,
        case when statused.is_measurable then {{ to_decimal(
            divide('(statused.achieved_value - statused.objective_value) * 100', 'statused.objective_value'), 12, 4
        ) }} end as deviation_pct,
        case when statused.is_measurable then statused.deviation_eur end as deviation_eur,
        case when statused.is_measurable then statused.achieved_source end as achieved_source,
        statused.status,
        case
            when statused.status <> 'missed' then null
            when causes.has_delivery_drop = 1 then 'delivery_drop'
            when causes.has_planned_pause = 1 then 'planned_pause'
            when statused.indicator = 'volume_min' and statused.delivery_status = 'under_delivered'
                then 'under_delivery'
            when
                statused.indicator in ('cpm_max', 'cpc_max', 'cpa_max')
                and abs(statused.last_cpc_eur - statused.first_cpc_eur) * 100
                > statused.first_cpc_eur * {{ var('objective_cpc_change_pct') }}
                then 'cpc_change'
        end as likely_cause,
        statused.source_file_sha256,
        statused.source_line
    from statused
    left join causes
        on
            statused.order_line_id = causes.order_line_id
            and statused.indicator = causes.indicator
)

select * from final
