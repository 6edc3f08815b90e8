-- Every detected discrepancy, one vocabulary (seed finding_types) and one entity key per type, with
-- the evidence an auditor can follow back to a received file and line. Each rule is one model of
-- models/intermediate/findings/, all emitting the same columns (their contract); here they are unioned,
-- given an id and their type's severity and description. advertiser_id is whose finding it is (the
-- dashboard's and the alerts' per-advertiser scope): null only for contract-wide types.
with

unioned as (
    select * from {{ ref('int_findings__under_delivery') }}
    union all
    select * from {{ ref('int_findings__delivery_without_order') }}
    union all
    select * from {{ ref('int_findings__forbidden_campaign_delivery') }}
    union all
    select * from {{ ref('int_findings__volume_drops') }}
    union all
    select * from {{ ref('int_findings__invoice_without_order') }}
    union all
    select * from {{ ref('int_findings__invoice_blocked') }}
    union all
    select * from {{ ref('int_findings__late_payment') }}
    union all
    select * from {{ ref('int_findings__order_line_invoicing') }}
    union all
    select * from {{ ref('int_findings__missing_deferred_rebate') }}
    union all
    select * from {{ ref('int_findings__ceiling_threshold_crossed') }}
    union all
    select * from {{ ref('int_findings__agency_fee_overcharge') }}
    union all
    select * from {{ ref('int_findings__epm_miss') }}
    union all
    select * from {{ ref('int_findings__objective_missed') }}
    union all
    select * from {{ ref('int_findings__late_delivery_penalty_due') }}
    union all
    select * from {{ ref('int_findings__duplicate_invoice') }}
    union all
    select * from {{ ref('int_findings__invoice_arithmetic_error') }}
    union all
    select * from {{ ref('int_findings__brand_safety_breach') }}
    union all
    select * from {{ ref('int_findings__invoiced_before_admission') }}
    union all
    select * from {{ ref('int_findings__paid_after_rejection') }}
),

finding_types as (
    select * from {{ ref('finding_types') }}
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
        unioned.advertiser_id,
        unioned.media_seller_id,
        unioned.first_date,
        unioned.last_date,
        cast(unioned.amount_at_stake_eur as decimal(18, 2)) as amount_at_stake_eur,
        finding_types.default_severity as severity,
        finding_types.description,
        unioned.evidence_source,
        unioned.evidence_file_sha256,
        unioned.evidence_line,
        unioned.evidence_document_name
    from unioned
    -- left: a type missing from the seed must fail the relationships test, not vanish
    left join finding_types
        on unioned.finding_type = finding_types.finding_type
)

select * from final
