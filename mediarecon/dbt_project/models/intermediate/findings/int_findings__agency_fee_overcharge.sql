-- Findings fee_on_gross and wrong_fee_rate. Rule: CCAP 12.2.1 (2), the agency's fee is the schedule's
-- rate applied to net media HT after all discounts and rebates (computed in fct_agency_fees).
-- Grain: one row per purchase order whose invoiced fee is above the schedule beyond the tolerance:
-- computed on gross (fee_on_gross) or at another rate (wrong_fee_rate); entity_key = purchase_order_id;
-- amount = the overcharge HT.
with

agency_fees as (
    select * from {{ ref('fct_agency_fees') }}
),

final as (
    select
        fee_issue as finding_type,
        purchase_order_id as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        first_invoice_date as first_date,
        last_invoice_date as last_date,
        cast(overcharge_ht_eur as decimal(18, 2)) as amount_at_stake_eur,
        'einvoice' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from agency_fees
    where fee_issue is not null
)

select * from final
