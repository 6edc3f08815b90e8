-- Everything the morning alerts are made of, one row per condition episode: volume drops (campaign,
-- advertiser, seller, campaign x ISP; their alert rule from the seed volume_drop_types), bounce/complaint
-- rises per ISP, invoices close to their payment due date, and every finding of fct_findings (the alert
-- step keeps those its rules file asks for). A finding's condition is its advertiser's (fct_findings
-- says whose it is), so that per-advertiser routing sees every one.
-- is_ongoing: the condition still holds on the last day known; level 2 is critical (a series at zero,
-- a critical finding). Run-level conditions (a failed nightly, a silent source) are the alert step's.
with

drops as (
    select * from {{ ref('int_volume_drops_grouped') }}
),

volume_drop_types as (
    select * from {{ ref('volume_drop_types') }}
),

bounce_rises as (
    select * from {{ ref('int_email_bounce_rises') }}
),

isp_stats as (
    select * from {{ ref('stg_email_router__isp_stats') }}
),

findings as (
    select * from {{ ref('fct_findings') }}
),

invoice_payments as (
    select * from {{ ref('fct_invoice_payments') }}
),

volume_drops as (
    select
        volume_drop_types.alert_rule,
        drops.series_key as entity_key,
        drops.advertiser_id,
        drops.campaign_id,
        drops.media_seller_id,
        drops.first_date,
        drops.last_date,
        drops.last_date >= drops.data_last_date as is_ongoing,
        case when drops.lowest_volume = 0 then 2 else 1 end as alert_level,
        cast(drops.volume as double) as observed_value,
        cast(drops.baseline_volume as double) as baseline_value,
        drops.lowest_share * 100 as lowest_share_pct,
        {{ to_decimal('drops.lost_value_eur', 18, 2) }} as amount_at_stake_eur,
        drops.series_type,
        drops.series_key,
        findings.finding_id,
        findings.evidence_source,
        findings.evidence_file_sha256,
        findings.evidence_line
    from drops
    inner join volume_drop_types
        on drops.series_type = volume_drop_types.series_type
    left join findings
        on
            drops.series_key = findings.entity_key
            and drops.first_date = findings.first_date
            and volume_drop_types.finding_type = findings.finding_type
),

email_reported_until as (
    select max(send_date) as data_last_date
    from isp_stats
),

email_bounce_rises as (
    select
        'email_bounce_rise' as alert_rule,
        bounce_rises.series_key as entity_key,
        bounce_rises.advertiser_id,
        bounce_rises.campaign_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        bounce_rises.first_date,
        bounce_rises.last_date,
        bounce_rises.last_date >= email_reported_until.data_last_date as is_ongoing,
        1 as alert_level,
        bounce_rises.highest_rate * 100 as observed_value,
        bounce_rises.baseline_rate * 100 as baseline_value,
        cast(null as double) as lowest_share_pct,
        cast(null as decimal(18, 2)) as amount_at_stake_eur,
        'campaign_isp' as series_type,
        bounce_rises.series_key,
        cast(null as {{ dbt.type_string() }}) as finding_id,
        'email_router' as evidence_source,
        cast(null as {{ dbt.type_string() }}) as evidence_file_sha256,
        cast(null as bigint) as evidence_line
    from bounce_rises
    cross join email_reported_until
),

as_of as (
    select cast('{{ var("as_of_date") }}' as date) as as_of_date
),

-- An invoice that is neither paid nor past its due date, within the warning window before it.
payments_due as (
    select
        'invoice_payment_due' as alert_rule,
        invoice_payments.supplier_invoice_key as entity_key,
        invoice_payments.advertiser_id,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        {{ dbt.dateadd('day', -var('payment_warning_days_before_due'), 'invoice_payments.payment_due_date') }}
            as first_date,
        invoice_payments.payment_due_date as last_date,
        true as is_ongoing,
        1 as alert_level,
        cast(
            {{ dbt.datediff('invoice_payments.received_date', 'as_of.as_of_date', 'day') }}
            as double
        ) as observed_value,
        cast(invoice_payments.legal_delay_days as double) as baseline_value,
        cast(null as double) as lowest_share_pct,
        invoice_payments.amount_ttc_eur as amount_at_stake_eur,
        cast(null as {{ dbt.type_string() }}) as series_type,
        cast(null as {{ dbt.type_string() }}) as series_key,
        cast(null as {{ dbt.type_string() }}) as finding_id,
        'chorus_pro' as evidence_source,
        invoice_payments.source_file_sha256 as evidence_file_sha256,
        invoice_payments.source_line as evidence_line
    from invoice_payments
    cross join as_of
    where
        not invoice_payments.is_paid
        and invoice_payments.payment_due_date >= as_of.as_of_date
        and {{ dbt.dateadd('day', -var('payment_warning_days_before_due'), 'invoice_payments.payment_due_date') }}
        <= as_of.as_of_date
),

other_findings as (
    select
        findings.finding_type as alert_rule,
        findings.entity_key,
        findings.advertiser_id,
        findings.campaign_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        findings.first_date,
        findings.last_date,
        true as is_ongoing,
        case when findings.severity = 'critical' then 2 else 1 end as alert_level,
        cast(null as double) as observed_value,
        cast(null as double) as baseline_value,
        cast(null as double) as lowest_share_pct,
        findings.amount_at_stake_eur,
        cast(null as {{ dbt.type_string() }}) as series_type,
        cast(null as {{ dbt.type_string() }}) as series_key,
        findings.finding_id,
        findings.evidence_source,
        findings.evidence_file_sha256,
        findings.evidence_line
    from findings
    where findings.finding_type not in (
        select volume_drop_types.finding_type from volume_drop_types
        where volume_drop_types.finding_type is not null
    )
),

unioned as (
    select * from volume_drops
    union all
    select * from email_bounce_rises
    union all
    select * from payments_due
    union all
    select * from other_findings
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            "alert_rule", "'|'", "entity_key", "'|'", "cast(first_date as " ~ dbt.type_string() ~ ")"
        ])) }} as condition_id,
        alert_rule,
        entity_key,
        advertiser_id,
        campaign_id,
        media_seller_id,
        cast(first_date as date) as first_date,
        cast(last_date as date) as last_date,
        is_ongoing,
        cast(alert_level as integer) as alert_level,
        observed_value,
        baseline_value,
        lowest_share_pct,
        amount_at_stake_eur,
        series_type,
        series_key,
        finding_id,
        evidence_source,
        evidence_file_sha256,
        evidence_line
    from unioned
)

select * from final
