-- Payment delay interest (CCAP 12.4.3; CCP R2192-31, D2192-35). For each invoice paid late: interest
-- runs from the day after the due date to the payment date, on the TTC amount, at the ECB main
-- refinancing rate in force on the first day of the half-year in which it starts to run + 8 points,
-- over 365 days; plus a 40 EUR flat recovery indemnity per invoice. A half-year starting after the last
-- confirmed ECB decision has no known rate: rate_is_known is false and the build fails (data test).
with

late_invoices as (
    select * from {{ ref('fct_invoice_payments') }}
    where is_paid_late
),

rates as (
    select * from {{ ref('ecb_main_refinancing_rates') }}
),

started as (
    select
        *,
        cast({{ dbt.dateadd('day', 1, 'payment_due_date') }} as date) as interest_start_date
    from late_invoices
),

half_years as (
    select
        *,
        cast(
            case
                when extract(month from interest_start_date) <= 6
                    then {{ dbt.date_trunc('year', 'interest_start_date') }}
                else {{ dbt.dateadd('month', 6, dbt.date_trunc('year', 'interest_start_date')) }}
            end as date
        ) as half_year_start_date
    from started
),

rate_in_force as (
    select
        half_years.invoice_id,
        max(rates.effective_from) as rate_effective_from
    from half_years
    inner join rates
        on half_years.half_year_start_date >= rates.effective_from
    group by half_years.invoice_id
),

priced as (
    select
        half_years.*,
        rates.mro_rate_pct,
        cast(rates.mro_rate_pct + {{ var('moratory_interest_points') }} as decimal(9, 4)) as interest_rate_pct,
        (
            half_years.half_year_start_date <= cast('{{ var("ecb_rates_confirmed_until") }}' as date)
            and rates.mro_rate_pct is not null
        ) as rate_is_known
    from half_years
    left join rate_in_force
        on half_years.invoice_id = rate_in_force.invoice_id
    left join rates
        on rate_in_force.rate_effective_from = rates.effective_from
),

interest as (
    select
        *,
        {{ to_decimal(divide('amount_ttc_eur * interest_rate_pct * days_late', 36500), 18, 2) }} as interest_eur,
        cast({{ var('recovery_indemnity_eur') }} as decimal(18, 2)) as recovery_indemnity_eur
    from priced
),

final as (
    select
        invoice_id,
        supplier_invoice_key,
        advertiser_id,
        amount_ttc_eur,
        payment_due_date,
        payment_date,
        days_late,
        interest_start_date,
        half_year_start_date,
        mro_rate_pct,
        interest_rate_pct,
        interest_eur,
        recovery_indemnity_eur,
        cast(interest_eur + recovery_indemnity_eur as decimal(18, 2)) as amount_due_eur,
        rate_is_known,
        source_file_sha256,
        source_line
    from interest
)

select * from final
