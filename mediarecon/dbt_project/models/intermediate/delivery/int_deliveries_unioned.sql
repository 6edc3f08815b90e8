-- Delivery from the three counting sources, at one grain: source x counted object x day.
-- A report re-sent for the same object and day replaces the earlier one (latest received wins; for the
-- ad server, in int_ad_server_deliveries_deduplicated).
with

ad_server_latest as (
    select
        placement_id,
        order_line_ref,
        campaign_id,
        delivery_date,
        impressions,
        clicks,
        media_cost_eur,
        source_file_sha256,
        source_line
    from {{ ref('int_ad_server_deliveries_deduplicated') }}
),

regie_latest as (
    {{ keep_one_version(ref('stg_regie__report_lines'), ['order_line_ref', 'delivery_date']) }}
),

email_latest as (
    {{ keep_one_version(ref('stg_email_router__isp_stats'), ['send_date', 'order_line_ref', 'isp_domain']) }}
),

ad_server_daily as (
    select
        'ad_server' as delivery_source,
        cast(placement_id as {{ dbt.type_string() }}) as counted_object_id,
        max(order_line_ref) as order_line_ref,
        max(campaign_id) as campaign_id,
        delivery_date,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks,
        cast(null as bigint) as units,
        sum(media_cost_eur) as media_cost_eur,
        min(source_file_sha256) as source_file_sha256,
        min(source_line) as source_line
    from ad_server_latest
    group by placement_id, delivery_date
),

regie_daily as (
    select
        'regie' as delivery_source,
        order_line_ref as counted_object_id,
        order_line_ref,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        delivery_date,
        cast(null as bigint) as impressions,
        cast(null as bigint) as clicks,
        delivered_quantity as units,
        net_ht_eur as media_cost_eur,
        source_file_sha256,
        source_line
    from regie_latest
),

email_daily as (
    select
        'email_router' as delivery_source,
        order_line_ref as counted_object_id,
        order_line_ref,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        send_date as delivery_date,
        cast(null as bigint) as impressions,
        cast(null as bigint) as clicks,
        cast(sum(delivered_count) as bigint) as units,
        cast(null as decimal(18, 2)) as media_cost_eur,
        min(source_file_sha256) as source_file_sha256,
        min(source_line) as source_line
    from email_latest
    group by order_line_ref, send_date
),

final as (
    select * from ad_server_daily
    union all
    select * from regie_daily
    union all
    select * from email_daily
)

select * from final
