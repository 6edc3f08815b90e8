-- Findings fee_on_gross and wrong_fee_rate. Rule: CCAP 12.2.1 (2), the agency's fee is the schedule's
-- rate applied to net media HT after all discounts and rebates (computed in fct_agency_fees).
-- Grain: one row per purchase order whose invoiced fee is above the schedule beyond the tolerance:
-- computed on gross (fee_on_gross) or at another rate (wrong_fee_rate); entity_key = purchase_order_id;
-- amount = the overcharge HT; advertiser = the purchase order's; evidence = the fee invoice's document.
with

agency_fees as (
    select * from {{ ref('fct_agency_fees') }}
),

purchase_orders as (
    select * from {{ ref('int_purchase_orders_attributed') }}
),

final as (
    select
        agency_fees.fee_issue as finding_type,
        agency_fees.purchase_order_id as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        purchase_orders.advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        agency_fees.first_invoice_date as first_date,
        agency_fees.last_invoice_date as last_date,
        cast(agency_fees.overcharge_ht_eur as decimal(18, 2)) as amount_at_stake_eur,
        'einvoice' as evidence_source,
        agency_fees.source_file_sha256 as evidence_file_sha256,
        cast(null as bigint) as evidence_line,
        agency_fees.source_document_name as evidence_document_name
    from agency_fees
    left join purchase_orders
        on agency_fees.purchase_order_id = purchase_orders.purchase_order_id
    where agency_fees.fee_issue is not null
)

select * from final
