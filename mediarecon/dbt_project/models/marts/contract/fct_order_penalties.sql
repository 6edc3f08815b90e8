-- Penalties per purchase order (CCAP 11.11). Late delivery (11.11.1): days between the order's end date
-- and the last day anything of it was delivered (delivery after the SIG forbade the campaign is not
-- execution of the order and does not count), 1/20 of the order amount (net media + fees HT; for the
-- UO 01-01 coordination forfait, its monthly price) per day, capped at 10 % of it; none when the SIG
-- recorded force majeure or the advertiser's fault. Poor execution (11.11.2): 500 / 1 000 / 5 000 EUR
-- per recorded breach of level 1 / 2 / 3, capped at 25 % of the order amount.
with

purchase_orders as (
    select * from {{ ref('int_purchase_orders_deduplicated') }}
),

deliveries as (
    select * from {{ ref('int_deliveries_matched') }}
    where is_matched
),

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

monthly_flat as (
    select
        uo_code,
        fee_unit_price_eur
    from {{ ref('fee_schedule') }}
    where fee_basis = 'monthly_flat'
),

forbidden as (
    select
        campaign_id,
        min(forbidden_since_date) as forbidden_since_date
    from {{ ref('stg_sig__forbidden_campaigns') }}
    group by campaign_id
),

events as (
    select distinct
        purchase_order_id,
        event_date,
        event_type,
        level,
        reason
    from {{ ref('stg_sig__penalty_events') }}
),

delivered as (
    select
        order_lines.purchase_order_id,
        max(deliveries.delivery_date) as actual_end_date
    from deliveries
    inner join order_lines
        on deliveries.order_line_id = order_lines.order_line_id
    left join forbidden
        on deliveries.campaign_id = forbidden.campaign_id
    where forbidden.forbidden_since_date is null or deliveries.delivery_date < forbidden.forbidden_since_date
    group by order_lines.purchase_order_id
),

waivers as (
    select distinct purchase_order_id
    from events
    where event_type in ('force_majeure', 'faute_annonceur')
),

breaches as (
    select
        purchase_order_id,
        count(*) as poor_execution_events,
        sum(
            case level
                when 1 then {{ var('poor_execution_level_1_eur') }}
                when 2 then {{ var('poor_execution_level_2_eur') }}
                when 3 then {{ var('poor_execution_level_3_eur') }}
            end
        ) as poor_execution_uncapped_eur
    from events
    where event_type = 'mauvaise_execution'
    group by purchase_order_id
),

measured as (
    select
        purchase_orders.purchase_order_id,
        purchase_orders.end_date as contract_end_date,
        delivered.actual_end_date,
        cast(
            coalesce(
                monthly_flat.fee_unit_price_eur,
                purchase_orders.net_ht_eur + coalesce(purchase_orders.fee_ht_eur, 0)
            ) as decimal(18, 2)
        ) as order_amount_ht_eur,
        case
            when delivered.actual_end_date > purchase_orders.end_date
                then {{ dbt.datediff('purchase_orders.end_date', 'delivered.actual_end_date', 'day') }}
            else 0
        end as days_late,
        waivers.purchase_order_id is not null as is_waived,
        coalesce(breaches.poor_execution_events, 0) as poor_execution_events,
        coalesce(breaches.poor_execution_uncapped_eur, 0) as poor_execution_uncapped_eur,
        purchase_orders.source_file_sha256,
        purchase_orders.source_line
    from purchase_orders
    left join delivered
        on purchase_orders.purchase_order_id = delivered.purchase_order_id
    left join waivers
        on purchase_orders.purchase_order_id = waivers.purchase_order_id
    left join breaches
        on purchase_orders.purchase_order_id = breaches.purchase_order_id
    left join monthly_flat
        on purchase_orders.uo_code = monthly_flat.uo_code
),

final as (
    select
        purchase_order_id,
        contract_end_date,
        actual_end_date,
        order_amount_ht_eur,
        cast(days_late as integer) as days_late,
        is_waived,
        cast(
            case
                when is_waived then 0
                else least(
                    order_amount_ht_eur * {{ var('late_penalty_per_day_share') }} * days_late,
                    order_amount_ht_eur * {{ var('late_penalty_cap_share') }}
                )
            end as decimal(18, 2)
        ) as late_penalty_eur,
        cast(poor_execution_events as bigint) as poor_execution_events,
        cast(
            least(poor_execution_uncapped_eur, order_amount_ht_eur * {{ var('poor_execution_cap_share') }})
            as decimal(18, 2)
        ) as poor_execution_penalty_eur,
        source_file_sha256,
        source_line
    from measured
)

select * from final
