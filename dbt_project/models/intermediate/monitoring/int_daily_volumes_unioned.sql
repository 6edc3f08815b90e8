-- The daily series watched for drops, zero-filled over their flight:
--   campaign: ad-server impressions on the campaign's ordered digital placements, over the flight of
--             its digital lines;
--   campaign_isp: e-mails delivered at one ISP domain for a campaign, over its e-mail lines' flight.
-- unit_value_eur prices one unit of volume, to put a euro figure on a drop.
with

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

deliveries as (
    select * from {{ ref('int_deliveries_matched') }}
),

isp_stats as (
    select * from {{ ref('stg_email_router__isp_stats') }}
),

calendar as (
    select * from {{ ref('int_calendar_days') }}
),

campaign_flights as (
    select
        campaign_id,
        min(start_date) as start_date,
        max(end_date) as end_date
    from order_lines
    where media_type in ('digital_display', 'digital_video', 'social', 'search')
    group by campaign_id
),

campaign_daily as (
    select
        campaign_id,
        delivery_date as volume_date,
        sum(impressions) as volume,
        sum(delivered_cost_eur) as cost_eur
    from deliveries
    where delivery_source = 'ad_server' and is_matched
    group by campaign_id, delivery_date
),

campaign_unit_value as (
    select
        campaign_id,
        sum(cost_eur) / nullif(sum(volume), 0) as unit_value_eur
    from campaign_daily
    group by campaign_id
),

campaign_series as (
    select
        'campaign' as series_type,
        campaign_flights.campaign_id as series_key,
        campaign_flights.campaign_id,
        cast(null as {{ dbt.type_string() }}) as isp_domain,
        calendar.calendar_date as volume_date,
        coalesce(campaign_daily.volume, 0) as volume,
        campaign_unit_value.unit_value_eur
    from campaign_flights
    inner join calendar
        on calendar.calendar_date between campaign_flights.start_date and campaign_flights.end_date
    left join campaign_daily
        on
            campaign_flights.campaign_id = campaign_daily.campaign_id
            and calendar.calendar_date = campaign_daily.volume_date
    left join campaign_unit_value
        on campaign_flights.campaign_id = campaign_unit_value.campaign_id
),

email_lines as (
    select
        campaign_id,
        min(start_date) as start_date,
        max(end_date) as end_date,
        sum(net_ht_eur) / sum(ordered_quantity) as unit_value_eur
    from order_lines
    where media_type = 'email'
    group by campaign_id
),

email_daily as (
    select
        order_lines.campaign_id,
        isp_stats.isp_domain,
        isp_stats.send_date as volume_date,
        cast(sum(isp_stats.delivered_count) as bigint) as volume
    from isp_stats
    inner join order_lines
        on isp_stats.order_line_ref = order_lines.order_line_id
    group by order_lines.campaign_id, isp_stats.isp_domain, isp_stats.send_date
),

email_isps as (
    select distinct
        campaign_id,
        isp_domain
    from email_daily
),

email_series as (
    select
        'campaign_isp' as series_type,
        {{ dbt.concat(["email_isps.campaign_id", "'|'", "email_isps.isp_domain"]) }} as series_key,
        email_isps.campaign_id,
        email_isps.isp_domain,
        calendar.calendar_date as volume_date,
        coalesce(email_daily.volume, 0) as volume,
        email_lines.unit_value_eur
    from email_isps
    inner join email_lines
        on email_isps.campaign_id = email_lines.campaign_id
    inner join calendar
        on calendar.calendar_date between email_lines.start_date and email_lines.end_date
    left join email_daily
        on
            email_isps.campaign_id = email_daily.campaign_id
            and email_isps.isp_domain = email_daily.isp_domain
            and calendar.calendar_date = email_daily.volume_date
),

final as (
    select * from campaign_series
    union all
    select * from email_series
)

select * from final
