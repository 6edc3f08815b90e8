-- Every detected discrepancy, one vocabulary (seed finding_types) and one entity key per type, with
-- the evidence an auditor can follow back to a received file and line.
with

order_line_delivery as (
    select * from {{ ref('fct_order_line_delivery') }}
),

deliveries as (
    select * from {{ ref('int_deliveries_matched') }}
),

forbidden as (
    select
        campaign_id,
        min(forbidden_since_date) as forbidden_since_date
    from {{ ref('stg_sig__forbidden_campaigns') }}
    group by campaign_id
),

drops as (
    select * from {{ ref('int_volume_drops_grouped') }}
),

finding_types as (
    select * from {{ ref('finding_types') }}
),

under_delivery as (
    select
        'under_delivery' as finding_type,
        order_line_id as entity_key,
        campaign_id,
        start_date as first_date,
        end_date as last_date,
        undelivered_net_ht_eur as amount_at_stake_eur,
        'agency' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        source_line as evidence_line
    from order_line_delivery
    where delivery_status = 'under_delivered'
),

unordered_rows as (
    select
        *,
        row_number() over (
            partition by counted_object_id
            order by delivery_date, source_file_sha256, source_line
        ) as evidence_rank
    from deliveries
    where delivery_source = 'ad_server' and not is_matched
),

delivery_without_order as (
    select
        'delivery_without_order' as finding_type,
        counted_object_id as entity_key,
        max(campaign_id) as campaign_id,
        min(delivery_date) as first_date,
        max(delivery_date) as last_date,
        sum(delivered_cost_eur) as amount_at_stake_eur,
        'ad_server' as evidence_source,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line
    from unordered_rows
    group by counted_object_id
),

forbidden_rows as (
    select
        deliveries.*,
        row_number() over (
            partition by deliveries.campaign_id
            order by deliveries.delivery_date, deliveries.source_file_sha256, deliveries.source_line
        ) as evidence_rank
    from deliveries
    inner join forbidden
        on deliveries.campaign_id = forbidden.campaign_id
        and deliveries.delivery_date >= forbidden.forbidden_since_date
    where deliveries.delivered_quantity > 0
),

forbidden_campaign_delivery as (
    select
        'forbidden_campaign_delivery' as finding_type,
        campaign_id as entity_key,
        campaign_id,
        min(delivery_date) as first_date,
        max(delivery_date) as last_date,
        sum(delivered_cost_eur) as amount_at_stake_eur,
        max(case when evidence_rank = 1 then delivery_source end) as evidence_source,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line
    from forbidden_rows
    group by campaign_id
),

volume_drops as (
    select
        case series_type
            when 'campaign' then 'delivery_drop'
            else 'email_deliverability_drop'
        end as finding_type,
        series_key as entity_key,
        campaign_id,
        first_date,
        last_date,
        lost_value_eur as amount_at_stake_eur,
        case series_type when 'campaign' then 'ad_server' else 'email_router' end as evidence_source,
        cast(null as {{ dbt.type_string() }}) as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from drops
),

unioned as (
    select * from under_delivery
    union all
    select * from delivery_without_order
    union all
    select * from forbidden_campaign_delivery
    union all
    select * from volume_drops
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            "unioned.finding_type", "'|'", "unioned.entity_key", "'|'",
            "cast(unioned.first_date as " ~ dbt.type_string() ~ ")"
        ])) }} as finding_id,
        unioned.finding_type,
        unioned.entity_key,
        unioned.campaign_id,
        unioned.first_date,
        unioned.last_date,
        cast(unioned.amount_at_stake_eur as decimal(18, 2)) as amount_at_stake_eur,
        finding_types.default_severity as severity,
        finding_types.description,
        unioned.evidence_source,
        unioned.evidence_file_sha256,
        unioned.evidence_line
    from unioned
    inner join finding_types
        on unioned.finding_type = finding_types.finding_type
)

select * from final
