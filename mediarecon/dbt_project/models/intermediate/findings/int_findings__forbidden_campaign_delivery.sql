-- Finding forbidden_campaign_delivery. Rule: no CCAP article of its own; the SIG's archive of forbidden
-- campaigns (source sig) is checked against what actually delivered (domain brief, "What goes wrong").
-- Grain: one row per forbidden campaign that delivered on or after the date it was forbidden;
-- entity_key = campaign_id; amount = the cost of that delivery; evidence = its first row; advertiser =
-- the campaign's, when the orders know it (else null).
with

deliveries as (
    select * from {{ ref('int_deliveries_matched') }}
),

campaign_advertisers as (
    select * from {{ ref('int_campaigns_attributed') }}
),

forbidden as (
    select
        campaign_id,
        min(forbidden_since_date) as forbidden_since_date
    from {{ ref('stg_sig__forbidden_campaigns') }}
    group by campaign_id
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
        on
            deliveries.campaign_id = forbidden.campaign_id
            and deliveries.delivery_date >= forbidden.forbidden_since_date
    where deliveries.delivered_quantity > 0
),

campaigns as (
    select
        campaign_id,
        min(delivery_date) as first_date,
        max(delivery_date) as last_date,
        sum(delivered_cost_eur) as delivered_cost_eur,
        max(case when evidence_rank = 1 then delivery_source end) as evidence_source,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line
    from forbidden_rows
    group by campaign_id
),

final as (
    select
        'forbidden_campaign_delivery' as finding_type,
        campaigns.campaign_id as entity_key,
        campaigns.campaign_id,
        campaign_advertisers.advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        campaigns.first_date,
        campaigns.last_date,
        cast(campaigns.delivered_cost_eur as decimal(18, 2)) as amount_at_stake_eur,
        campaigns.evidence_source,
        campaigns.evidence_file_sha256,
        campaigns.evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from campaigns
    left join campaign_advertisers
        on campaigns.campaign_id = campaign_advertisers.campaign_id
)

select * from final
