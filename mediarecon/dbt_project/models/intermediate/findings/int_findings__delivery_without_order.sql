-- Finding delivery_without_order. Rule: CCAP 11.2.4, media space is bought on a purchase order: every
-- delivery the ad server counts must rest on an order line.
-- Grain: one row per ad-server placement (counted_object_id) with delivery matched to no order line;
-- entity_key = the placement id; amount = its media cost; evidence = its first row (date, file, line);
-- advertiser = that of the campaign the ad server names, when the orders know it (else null).
with

deliveries as (
    select * from {{ ref('int_deliveries_matched') }}
),

campaign_advertisers as (
    select * from {{ ref('int_campaigns_attributed') }}
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

placements as (
    select
        counted_object_id,
        max(campaign_id) as campaign_id,
        min(delivery_date) as first_date,
        max(delivery_date) as last_date,
        sum(delivered_cost_eur) as delivered_cost_eur,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line
    from unordered_rows
    group by counted_object_id
),

final as (
    select
        'delivery_without_order' as finding_type,
        placements.counted_object_id as entity_key,
        placements.campaign_id,
        campaign_advertisers.advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        placements.first_date,
        placements.last_date,
        cast(placements.delivered_cost_eur as decimal(18, 2)) as amount_at_stake_eur,
        'ad_server' as evidence_source,
        placements.evidence_file_sha256,
        placements.evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from placements
    left join campaign_advertisers
        on placements.campaign_id = campaign_advertisers.campaign_id
)

select * from final
