-- Findings delivery_drop and email_deliverability_drop. Rule: no CCAP article of its own; a detection
-- rule (domain brief, "Delivery collapses"): a campaign's ad-server volume, or its e-mails delivered at
-- one ISP, at or below a share of its weekday baseline for consecutive days (int_volume_drops_grouped,
-- thresholds from the alert rules file, var drop_rules).
-- Grain: one row per drop episode of a campaign or campaign x ISP series (advertiser and seller roll-ups
-- are alerts only: their campaigns' drops are the findings); finding type and evidence source from the
-- seed volume_drop_types; entity_key = the series key; amount = the value of the volume lost; advertiser
-- = the campaign's.
with

volume_drops as (
    select * from {{ ref('int_volume_drops_grouped') }}
),

volume_drop_types as (
    select * from {{ ref('volume_drop_types') }}
),

deliveries as (
    select * from {{ ref('int_deliveries_matched') }}
),

isp_stats as (
    select * from {{ ref('stg_email_router__isp_stats') }}
),

-- The drops that are findings, typed by the seed volume_drop_types: advertiser and seller roll-ups have
-- no finding type there (alerts only: their campaigns' drops are the findings).
drops as (
    select
        volume_drops.*,
        volume_drop_types.finding_type,
        volume_drop_types.evidence_source
    from volume_drops
    inner join volume_drop_types
        on volume_drops.series_type = volume_drop_types.series_type
    where volume_drop_types.finding_type is not null
),

-- The rows a drop series is counted from: ad-server rows of ordered placements for a campaign, the
-- router's rows for a campaign x ISP.
series_rows as (
    select
        'campaign' as series_type,
        campaign_id as series_key,
        delivery_date as row_date,
        source_file_sha256,
        source_line
    from deliveries
    where delivery_source = 'ad_server' and is_matched
    union all
    select
        'campaign_isp' as series_type,
        {{ dbt.concat(["deliveries.campaign_id", "'|'", "isp_stats.isp_domain"]) }} as series_key,
        isp_stats.send_date as row_date,
        isp_stats.source_file_sha256,
        isp_stats.source_line
    from isp_stats
    inner join deliveries
        on
            isp_stats.order_line_ref = deliveries.order_line_id
            and isp_stats.send_date = deliveries.delivery_date
            and deliveries.delivery_source = 'email_router'
),

-- Evidence of a drop: the first counted row of the series on or after its first drop day (for an
-- e-mail block, the router's row that shows the ISP refusing; for a campaign, the report showing the
-- low day or, after a day at zero, the recovery).
drop_evidence as (
    select
        drops.series_type,
        drops.series_key,
        drops.first_date,
        series_rows.source_file_sha256,
        series_rows.source_line,
        row_number() over (
            partition by drops.series_type, drops.series_key, drops.first_date
            order by series_rows.row_date, series_rows.source_file_sha256, series_rows.source_line
        ) as evidence_rank
    from drops
    inner join series_rows
        on
            drops.series_type = series_rows.series_type
            and drops.series_key = series_rows.series_key
            and drops.first_date <= series_rows.row_date
),

final as (
    select
        drops.finding_type,
        drops.series_key as entity_key,
        drops.campaign_id,
        drops.advertiser_id,
        drops.media_seller_id,
        drops.first_date,
        drops.last_date,
        {{ to_decimal('drops.lost_value_eur', 18, 2) }} as amount_at_stake_eur,
        drops.evidence_source,
        drop_evidence.source_file_sha256 as evidence_file_sha256,
        drop_evidence.source_line as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from drops
    left join drop_evidence
        on
            drops.series_type = drop_evidence.series_type
            and drops.series_key = drop_evidence.series_key
            and drops.first_date = drop_evidence.first_date
            and drop_evidence.evidence_rank = 1
)

select * from final
