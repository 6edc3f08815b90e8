-- The daily series watched for drops, zero-filled over their flight, planned pauses marked:
--   campaign:        ad-server impressions on the campaign's ordered digital placements, over the flight
--                    of its digital lines;
--   campaign_seller: the same split by the régie that sold the line (rolled up per seller downstream);
--   campaign_isp:    e-mails delivered at one ISP domain for a campaign, over its e-mail lines' flight.
-- A series stops at the last day its source has reported (data_last_date): later days are not known
-- yet, not zero. unit_value_eur prices one unit of volume, to put a euro figure on a drop.
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

pauses as (
    select * from {{ ref('stg_agency__planned_pauses') }}
),

-- the last day each channel's source reported, over all campaigns
reported_until as (
    select
        'ad_server' as channel,
        max(delivery_date) as data_last_date
    from deliveries
    where delivery_source = 'ad_server'
    union all
    select
        'email' as channel,
        max(send_date) as data_last_date
    from isp_stats
),

paused_days as (
    select distinct
        pauses.campaign_id,
        calendar.calendar_date as volume_date
    from pauses
    inner join calendar
        on calendar.calendar_date between pauses.pause_start_date and pauses.pause_end_date
),

digital_lines as (
    select * from order_lines
    where media_type in ('digital_display', 'digital_video', 'social', 'search')
),

line_flights as (
    select
        campaign_id,
        advertiser_id,
        media_seller_id,
        min(start_date) as start_date,
        max(end_date) as end_date
    from digital_lines
    group by campaign_id, advertiser_id, media_seller_id
),

campaign_flights as (
    select
        campaign_id,
        min(advertiser_id) as advertiser_id,
        min(start_date) as start_date,
        max(end_date) as end_date
    from line_flights
    group by campaign_id
),

line_daily as (
    select
        digital_lines.campaign_id,
        digital_lines.media_seller_id,
        deliveries.delivery_date as volume_date,
        sum(deliveries.impressions) as volume,
        sum(deliveries.delivered_cost_eur) as cost_eur
    from deliveries
    inner join digital_lines
        on deliveries.order_line_id = digital_lines.order_line_id
    where deliveries.delivery_source = 'ad_server'
    group by digital_lines.campaign_id, digital_lines.media_seller_id, deliveries.delivery_date
),

campaign_daily as (
    select
        campaign_id,
        volume_date,
        sum(volume) as volume
    from line_daily
    group by campaign_id, volume_date
),

campaign_unit_value as (
    select
        campaign_id,
        {{ divide('sum(cost_eur)', 'sum(volume)') }} as unit_value_eur
    from line_daily
    group by campaign_id
),

campaign_series as (
    select
        'campaign' as series_type,
        campaign_flights.campaign_id as series_key,
        'ad_server' as channel,
        campaign_flights.campaign_id,
        campaign_flights.advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
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

campaign_seller_series as (
    select
        'campaign_seller' as series_type,
        {{ dbt.concat(["line_flights.campaign_id", "'|'", "line_flights.media_seller_id"]) }} as series_key,
        'ad_server' as channel,
        line_flights.campaign_id,
        line_flights.advertiser_id,
        line_flights.media_seller_id,
        cast(null as {{ dbt.type_string() }}) as isp_domain,
        calendar.calendar_date as volume_date,
        coalesce(line_daily.volume, 0) as volume,
        campaign_unit_value.unit_value_eur
    from line_flights
    inner join calendar
        on calendar.calendar_date between line_flights.start_date and line_flights.end_date
    left join line_daily
        on
            line_flights.campaign_id = line_daily.campaign_id
            and line_flights.media_seller_id = line_daily.media_seller_id
            and calendar.calendar_date = line_daily.volume_date
    left join campaign_unit_value
        on line_flights.campaign_id = campaign_unit_value.campaign_id
),

email_lines as (
    select
        campaign_id,
        min(advertiser_id) as advertiser_id,
        min(start_date) as start_date,
        max(end_date) as end_date,
        {{ divide('sum(net_ht_eur)', 'sum(ordered_quantity)') }} as unit_value_eur
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
        'email' as channel,
        email_isps.campaign_id,
        email_lines.advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
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

unioned as (
    select * from campaign_series
    union all
    select * from campaign_seller_series
    union all
    select * from email_series
),

final as (
    select
        unioned.*,
        reported_until.data_last_date,
        paused_days.campaign_id is not null as is_paused
    from unioned
    inner join reported_until
        on
            unioned.channel = reported_until.channel
            and unioned.volume_date <= reported_until.data_last_date
    left join paused_days
        on
            unioned.campaign_id = paused_days.campaign_id
            and unioned.volume_date = paused_days.volume_date
)

select * from final
