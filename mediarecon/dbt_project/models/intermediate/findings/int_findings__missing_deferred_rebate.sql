-- Finding missing_deferred_rebate. Rule: CCAP 12.4.4 (the billing anticipates the régies' year-end
-- rebates) and 6.2 (every rebate and credit note goes back to the advertiser); expected and received
-- amounts computed in fct_deferred_rebates.
-- Grain: one row per advertiser x media seller x year whose year-end rebate did not (fully) arrive as
-- credit notes; entity_key = advertiser_id|media_seller_id|year; dates = that calendar year; amount =
-- expected - received.
with

deferred_rebates as (
    select * from {{ ref('fct_deferred_rebates') }}
),

final as (
    select
        'missing_deferred_rebate' as finding_type,
        rebate_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        advertiser_id,
        media_seller_id,
        cast({{ dbt.concat(["cast(service_year as " ~ dbt.type_string() ~ ")", "'-01-01'"]) }} as date) as first_date,
        cast({{ dbt.concat(["cast(service_year as " ~ dbt.type_string() ~ ")", "'-12-31'"]) }} as date) as last_date,
        cast(missing_rebate_eur as decimal(18, 2)) as amount_at_stake_eur,
        'agency' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        cast(null as bigint) as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from deferred_rebates
    where is_missing
)

select * from final
