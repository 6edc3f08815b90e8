-- Episodes of a rise in hard bounces and spam complaints of one campaign at one ISP domain: a day whose
-- (hard bounces + complaints) / attempted is at least bounce_rise.factor times the median rate of the
-- previous baseline_days days and at least min_rate_pct %, on at least min_attempted messages. Soft
-- bounces and blocks are left out: blocks are the deliverability drop, soft bounces retry.
{%- set rule = var('bounce_rise') %}
with

isp_stats as (
    select * from {{ ref('stg_email_router__isp_stats') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

daily as (
    select
        order_lines.campaign_id,
        min(order_lines.advertiser_id) as advertiser_id,
        isp_stats.isp_domain,
        isp_stats.send_date,
        sum(isp_stats.attempted_count) as attempted_count,
        sum(isp_stats.hard_bounced_count + isp_stats.spam_report_count) as rejected_count
    from isp_stats
    inner join order_lines
        on isp_stats.order_line_ref = order_lines.order_line_id
    group by order_lines.campaign_id, isp_stats.isp_domain, isp_stats.send_date
),

rates as (
    select
        *,
        {{ divide('rejected_count', 'attempted_count') }} as rejected_rate
    from daily
),

baselines as (
    select
        today.campaign_id,
        today.isp_domain,
        today.send_date,
        percentile_cont(0.5) within group (order by past.rejected_rate) as baseline_rate
    from rates as today
    inner join rates as past
        on
            today.campaign_id = past.campaign_id
            and today.isp_domain = past.isp_domain
            and today.send_date > past.send_date
            and past.send_date >= {{ dbt.dateadd('day', -rule['baseline_days'], 'today.send_date') }}
    where past.attempted_count > 0
    group by today.campaign_id, today.isp_domain, today.send_date
),

flagged as (
    select
        rates.*,
        baselines.baseline_rate
    from rates
    inner join baselines
        on
            rates.campaign_id = baselines.campaign_id
            and rates.isp_domain = baselines.isp_domain
            and rates.send_date = baselines.send_date
    where
        rates.attempted_count >= {{ rule['min_attempted'] }}
        and rates.rejected_rate >= {{ divide(rule['min_rate_pct'], 100) }}
        and rates.rejected_rate >= baselines.baseline_rate * {{ rule['factor'] }}
),

numbered as (
    select
        *,
        {{ dbt.datediff("cast('2000-01-01' as date)", 'send_date', 'day') }}
        - row_number() over (partition by campaign_id, isp_domain order by send_date) as island_id
    from flagged
),

final as (
    select
        {{ dbt.concat(["campaign_id", "'|'", "isp_domain"]) }} as series_key,
        campaign_id,
        min(advertiser_id) as advertiser_id,
        isp_domain,
        min(send_date) as first_date,
        max(send_date) as last_date,
        count(*) as rise_days,
        sum(attempted_count) as attempted_count,
        sum(rejected_count) as rejected_count,
        max(rejected_rate) as highest_rate,
        percentile_cont(0.5) within group (order by baseline_rate) as baseline_rate
    from numbered
    group by campaign_id, isp_domain, island_id
)

select * from final
