-- Every detected discrepancy, one vocabulary (seed finding_types) and one entity key per type, with
-- the evidence an auditor can follow back to a received file and line.
with

order_line_delivery as (
    select * from {{ ref('fct_order_line_delivery') }}
),

deliveries as (
    select * from {{ ref('int_deliveries_matched') }}
),

forbidden as (
    select
        campaign_id,
        min(forbidden_since_date) as forbidden_since_date
    from {{ ref('stg_sig__forbidden_campaigns') }}
    group by campaign_id
),

-- advertiser and seller roll-ups are alerts only: their campaigns' drops are the findings
drops as (
    select * from {{ ref('int_volume_drops_grouped') }}
    where series_type in ('campaign', 'campaign_isp')
),

isp_stats as (
    select * from {{ ref('stg_email_router__isp_stats') }}
),

invoice_payments as (
    select * from {{ ref('fct_invoice_payments') }}
),

order_penalties as (
    select * from {{ ref('fct_order_penalties') }}
),

epm_results as (
    select * from {{ ref('fct_epm_results') }}
),

agency_fees as (
    select * from {{ ref('fct_agency_fees') }}
),

contract_ceiling as (
    select * from {{ ref('fct_contract_ceiling') }}
),

deferred_rebates as (
    select * from {{ ref('fct_deferred_rebates') }}
),

payment_delay_interest as (
    select * from {{ ref('fct_payment_delay_interest') }}
),

invoice_status_history as (
    select * from {{ ref('fct_invoice_status_history') }}
),

invoice_lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

invoices as (
    select * from {{ ref('int_invoices_identified') }}
),

einvoice_rejections as (
    select * from {{ ref('stg_einvoice__rejections') }}
),

finding_types as (
    select * from {{ ref('finding_types') }}
),

under_delivery as (
    select
        'under_delivery' as finding_type,
        order_line_id as entity_key,
        campaign_id,
        start_date as first_date,
        end_date as last_date,
        undelivered_net_ht_eur as amount_at_stake_eur,
        'agency' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        source_line as evidence_line
    from order_line_delivery
    where delivery_status = 'under_delivered'
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

delivery_without_order as (
    select
        'delivery_without_order' as finding_type,
        counted_object_id as entity_key,
        max(campaign_id) as campaign_id,
        min(delivery_date) as first_date,
        max(delivery_date) as last_date,
        sum(delivered_cost_eur) as amount_at_stake_eur,
        'ad_server' as evidence_source,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line
    from unordered_rows
    group by counted_object_id
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

forbidden_campaign_delivery as (
    select
        'forbidden_campaign_delivery' as finding_type,
        campaign_id as entity_key,
        campaign_id,
        min(delivery_date) as first_date,
        max(delivery_date) as last_date,
        sum(delivered_cost_eur) as amount_at_stake_eur,
        max(case when evidence_rank = 1 then delivery_source end) as evidence_source,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line
    from forbidden_rows
    group by campaign_id
),

-- The rows a drop series is counted from: ad-server rows of ordered placements for a campaign, the
-- router's rows for a campaign x ISP.
series_rows as (
    select
        'campaign' as series_type,
        campaign_id as series_key,
        delivery_date as row_date,
        source_file_sha256,
        source_line
    from deliveries
    where delivery_source = 'ad_server' and is_matched
    union all
    select
        'campaign_isp' as series_type,
        {{ dbt.concat(["deliveries.campaign_id", "'|'", "isp_stats.isp_domain"]) }} as series_key,
        isp_stats.send_date as row_date,
        isp_stats.source_file_sha256,
        isp_stats.source_line
    from isp_stats
    inner join deliveries
        on
            isp_stats.order_line_ref = deliveries.order_line_id
            and isp_stats.send_date = deliveries.delivery_date
            and deliveries.delivery_source = 'email_router'
),

-- Evidence of a drop: the first counted row of the series on or after its first drop day (for an
-- e-mail block, the router's row that shows the ISP refusing; for a campaign, the report showing the
-- low day or, after a day at zero, the recovery).
drop_evidence as (
    select
        drops.series_type,
        drops.series_key,
        drops.first_date,
        series_rows.source_file_sha256,
        series_rows.source_line,
        row_number() over (
            partition by drops.series_type, drops.series_key, drops.first_date
            order by series_rows.row_date, series_rows.source_file_sha256, series_rows.source_line
        ) as evidence_rank
    from drops
    inner join series_rows
        on
            drops.series_type = series_rows.series_type
            and drops.series_key = series_rows.series_key
            and drops.first_date <= series_rows.row_date
),

volume_drops as (
    select
        case drops.series_type
            when 'campaign' then 'delivery_drop'
            else 'email_deliverability_drop'
        end as finding_type,
        drops.series_key as entity_key,
        drops.campaign_id,
        drops.first_date,
        drops.last_date,
        drops.lost_value_eur as amount_at_stake_eur,
        case drops.series_type when 'campaign' then 'ad_server' else 'email_router' end as evidence_source,
        drop_evidence.source_file_sha256 as evidence_file_sha256,
        drop_evidence.source_line as evidence_line
    from drops
    left join drop_evidence
        on
            drops.series_type = drop_evidence.series_type
            and drops.series_key = drop_evidence.series_key
            and drops.first_date = drop_evidence.first_date
            and drop_evidence.evidence_rank = 1
),

invoice_without_order as (
    select
        'invoice_without_order' as finding_type,
        supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        deposit_date as first_date,
        deposit_date as last_date,
        amount_ttc_eur as amount_at_stake_eur,
        'chorus_pro' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        source_line as evidence_line
    from invoice_payments
    where not has_known_order
),

invoice_blocked as (
    select
        'invoice_blocked' as finding_type,
        supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        status_date as first_date,
        coalesce(next_status_date, status_date) as last_date,
        cast(null as decimal(18, 2)) as amount_at_stake_eur,
        'chorus_pro' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        source_line as evidence_line
    from invoice_status_history
    where is_blocking and days_in_status > {{ var('invoice_blocked_days') }}
),

-- Amount at stake: moratory interest + the 40 EUR indemnity (fct_payment_delay_interest).
late_payment as (
    select
        'late_payment' as finding_type,
        supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        interest_start_date as first_date,
        payment_date as last_date,
        amount_due_eur as amount_at_stake_eur,
        'chorus_pro' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        source_line as evidence_line
    from payment_delay_interest
),

-- The invoice lines an order-line finding rests on: the first received invoice line billing it.
invoice_evidence as (
    select
        order_line_id,
        case when min(received_via) = 'export' then 'regie' else 'einvoice' end as evidence_source,
        min(source_file_sha256) as evidence_file_sha256,
        min(source_line) as evidence_line
    from invoice_lines
    where order_line_id is not null and not is_duplicate and not is_credit_note
    group by order_line_id
),

-- Order lines invoiced wrongly: more units (or a higher list price) than delivered beyond the
-- tolerance; invoiced with nothing delivered; a discount of the order left off the invoice.
order_line_invoicing_flags as (
    select
        'over_invoiced' as finding_type,
        order_line_id,
        invoiced_net_ht_eur - billable_net_ht_eur as amount_at_stake_eur
    from order_line_delivery
    where invoice_match_status = 'over_invoiced' and is_gross_over_invoiced
    union all
    select
        'invoiced_not_delivered' as finding_type,
        order_line_id,
        invoiced_net_ht_eur as amount_at_stake_eur
    from order_line_delivery
    where invoice_match_status = 'invoiced_not_delivered'
    union all
    select
        'missing_discount' as finding_type,
        order_line_id,
        missing_discount_ht_eur as amount_at_stake_eur
    from order_line_delivery
    where missing_discount_ht_eur > 0
),

order_line_invoicing as (
    select
        order_line_invoicing_flags.finding_type,
        order_line_invoicing_flags.order_line_id as entity_key,
        order_line_delivery.campaign_id,
        order_line_delivery.first_invoice_date as first_date,
        order_line_delivery.last_invoice_date as last_date,
        order_line_invoicing_flags.amount_at_stake_eur,
        invoice_evidence.evidence_source,
        invoice_evidence.evidence_file_sha256,
        invoice_evidence.evidence_line
    from order_line_invoicing_flags
    inner join order_line_delivery
        on order_line_invoicing_flags.order_line_id = order_line_delivery.order_line_id
    left join invoice_evidence
        on order_line_invoicing_flags.order_line_id = invoice_evidence.order_line_id
),

-- The second copy of an invoice; what is at stake is paying it twice (TTC).
duplicate_invoice as (
    select
        'duplicate_invoice' as finding_type,
        supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        issue_date as first_date,
        issue_date as last_date,
        tax_inclusive_eur as amount_at_stake_eur,
        case when received_via = 'export' then 'regie' else 'einvoice' end as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from invoices
    where is_duplicate
),

-- A document whose totals do not add up (first rule broken); every copy of it is one finding.
invoice_arithmetic_error as (
    select
        'invoice_arithmetic_error' as finding_type,
        supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        min(issue_date) as first_date,
        min(issue_date) as last_date,
        min(abs(expected_eur - stated_eur)) as amount_at_stake_eur,
        'einvoice' as evidence_source,
        min(source_file_sha256) as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from einvoice_rejections
    where rule like 'BR-CO-%' and supplier_invoice_key is not null
    group by supplier_invoice_key
),

-- A year-end rebate the régie's terms give that did not arrive as credit notes.
missing_deferred_rebate as (
    select
        'missing_deferred_rebate' as finding_type,
        rebate_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast({{ dbt.concat(["cast(service_year as " ~ dbt.type_string() ~ ")", "'-01-01'"]) }} as date) as first_date,
        cast({{ dbt.concat(["cast(service_year as " ~ dbt.type_string() ~ ")", "'-12-31'"]) }} as date) as last_date,
        missing_rebate_eur as amount_at_stake_eur,
        'agency' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from deferred_rebates
    where is_missing
),

-- The day the framework's cumulative consumption reached the alert threshold of its ceiling.
ceiling_threshold_crossed as (
    select
        'ceiling_threshold_crossed' as finding_type,
        framework_id as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        min(consumption_date) as first_date,
        min(consumption_date) as last_date,
        min(cumulative_ht_eur) as amount_at_stake_eur,
        'agency' as evidence_source,
        min(source_file_sha256) as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from contract_ceiling
    where is_over_threshold
    group by framework_id
),

-- An agency fee above the schedule: computed on gross, or at a wrong rate.
agency_fee_overcharge as (
    select
        fee_issue as finding_type,
        purchase_order_id as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        first_invoice_date as first_date,
        last_invoice_date as last_date,
        overcharge_ht_eur as amount_at_stake_eur,
        'einvoice' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from agency_fees
    where fee_issue is not null
),

-- A performance commitment missed over a year; the penalty is claimed in the next year (no amount here).
epm_miss as (
    select
        'epm_miss' as finding_type,
        epm_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast({{ dbt.concat(["cast(kpi_year as " ~ dbt.type_string() ~ ")", "'-01-01'"]) }} as date) as first_date,
        cast({{ dbt.concat(["cast(kpi_year as " ~ dbt.type_string() ~ ")", "'-12-31'"]) }} as date) as last_date,
        cast(null as decimal(18, 2)) as amount_at_stake_eur,
        'ad_server' as evidence_source,
        cast(null as {{ dbt.type_string() }}) as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from epm_results
    where not is_met
),

-- Delivery of an order went on after its end date (no force majeure): the late-delivery penalty is due.
late_delivery_penalty_due as (
    select
        'late_delivery_penalty_due' as finding_type,
        purchase_order_id as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast({{ dbt.dateadd('day', 1, 'contract_end_date') }} as date) as first_date,
        actual_end_date as last_date,
        late_penalty_eur as amount_at_stake_eur,
        'agency' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        source_line as evidence_line
    from order_penalties
    where late_penalty_eur > 0
),

unioned as (
    select * from under_delivery
    union all
    select * from delivery_without_order
    union all
    select * from forbidden_campaign_delivery
    union all
    select * from volume_drops
    union all
    select * from invoice_without_order
    union all
    select * from invoice_blocked
    union all
    select * from late_payment
    union all
    select * from order_line_invoicing
    union all
    select * from missing_deferred_rebate
    union all
    select * from ceiling_threshold_crossed
    union all
    select * from agency_fee_overcharge
    union all
    select * from epm_miss
    union all
    select * from late_delivery_penalty_due
    union all
    select * from duplicate_invoice
    union all
    select * from invoice_arithmetic_error
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
        unioned.first_date,
        unioned.last_date,
        cast(unioned.amount_at_stake_eur as decimal(18, 2)) as amount_at_stake_eur,
        finding_types.default_severity as severity,
        finding_types.description,
        unioned.evidence_source,
        unioned.evidence_file_sha256,
        unioned.evidence_line
    from unioned
    inner join finding_types
        on unioned.finding_type = finding_types.finding_type
)

select * from final
