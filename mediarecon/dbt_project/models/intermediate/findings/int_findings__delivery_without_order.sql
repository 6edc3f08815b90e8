-- Finding delivery_without_order. Rule: CCAP 11.2.4, media space is bought on a purchase order: every
-- delivery the ad server counts must rest on an order line.
-- Grain: one row per ad-server placement (counted_object_id) with delivery matched to no order line;
-- entity_key = the placement id; amount = its media cost; evidence = its first row (date, file, line).
with

deliveries as (
    select * from {{ ref('int_deliveries_matched') }}
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

final as (
    select
        'delivery_without_order' as finding_type,
        counted_object_id as entity_key,
        max(campaign_id) as campaign_id,
        min(delivery_date) as first_date,
        max(delivery_date) as last_date,
        cast(sum(delivered_cost_eur) as decimal(18, 2)) as amount_at_stake_eur,
        'ad_server' as evidence_source,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line
    from unordered_rows
    group by counted_object_id
)

select * from final
