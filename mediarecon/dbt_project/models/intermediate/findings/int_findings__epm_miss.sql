-- Finding epm_miss. Rule: CCAP 11.11.2 and annex 7 (performance commitments of 11.3.6): a commitment
-- missed over year N is a penalty claimed in N+1 (judged in fct_epm_results).
-- Grain: one row per media type x indicator x year not met; entity_key = media_type|indicator|year;
-- dates = that calendar year; no amount (the penalty is for a later rule); no advertiser (contract-wide).
with

epm_results as (
    select * from {{ ref('fct_epm_results') }}
),

final as (
    select
        'epm_miss' as finding_type,
        epm_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        -- no advertiser's own: only the coordinator and the auditor see it
        cast(null as {{ dbt.type_string() }}) as advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        cast({{ dbt.concat(["cast(kpi_year as " ~ dbt.type_string() ~ ")", "'-01-01'"]) }} as date) as first_date,
        cast({{ dbt.concat(["cast(kpi_year as " ~ dbt.type_string() ~ ")", "'-12-31'"]) }} as date) as last_date,
        cast(null as decimal(18, 2)) as amount_at_stake_eur,
        'ad_server' as evidence_source,
        cast(null as {{ dbt.type_string() }}) as evidence_file_sha256,
        cast(null as bigint) as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from epm_results
    where not is_met
)

select * from final
