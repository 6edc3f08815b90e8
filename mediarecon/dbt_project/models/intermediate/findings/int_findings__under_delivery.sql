-- Finding under_delivery. Rule: CCAP 11.10.2, the advertiser checks the quantities delivered against the
-- order before admitting them (with a price reduction when short); the tolerance is the var
-- under_delivery_tolerance_pct, applied in fct_order_line_delivery.
-- Grain: one row per order line that ended delivered below its tolerance; entity_key = order_line_id;
-- amount = the undelivered net HT; advertiser = the order line's.
with

order_line_delivery as (
    select * from {{ ref('fct_order_line_delivery') }}
),

final as (
    select
        'under_delivery' as finding_type,
        order_line_id as entity_key,
        campaign_id,
        advertiser_id,
        media_seller_id,
        start_date as first_date,
        end_date as last_date,
        cast(undelivered_net_ht_eur as decimal(18, 2)) as amount_at_stake_eur,
        'agency' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        source_line as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from order_line_delivery
    where delivery_status = 'under_delivered'
)

select * from final
