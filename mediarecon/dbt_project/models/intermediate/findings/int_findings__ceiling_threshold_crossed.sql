-- Finding ceiling_threshold_crossed. Rule: CCAP art. 5 and 12.6, the framework's maximum (800 MEUR HT)
-- is followed and an alert is due at 70 % of it (fct_contract_ceiling computes the daily cumulative
-- consumption and the threshold).
-- Grain: one row per framework agreement whose consumption reached the threshold; entity_key =
-- framework_id; first_date = last_date = the day it was reached; amount = the consumption that day; no
-- advertiser (contract-wide).
with

contract_ceiling as (
    select * from {{ ref('fct_contract_ceiling') }}
),

final as (
    select
        'ceiling_threshold_crossed' as finding_type,
        framework_id as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        -- no advertiser's own: only the coordinator and the auditor see it
        cast(null as {{ dbt.type_string() }}) as advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        min(consumption_date) as first_date,
        min(consumption_date) as last_date,
        cast(min(cumulative_ht_eur) as decimal(18, 2)) as amount_at_stake_eur,
        'agency' as evidence_source,
        min(source_file_sha256) as evidence_file_sha256,
        cast(null as bigint) as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from contract_ceiling
    where is_over_threshold
    group by framework_id
)

select * from final
