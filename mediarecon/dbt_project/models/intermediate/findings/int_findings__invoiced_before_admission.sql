-- Finding invoiced_before_admission. Rule: CCAP 11.10.2-11.10.3: the advertiser checks each order on the
-- agency's reports and takes a decision (admission, réfaction or rejet; an ajournement only postpones it).
-- An order invoiced in Chorus Pro (invoices, not credit notes) whose advertiser has taken no such decision
-- within admission_delay_days of the first invoice's deposit is a finding once that delay has run out
-- (as_of_date).
-- Grain: one row per purchase order; entity_key = purchase_order_id; first_date = the first invoice's deposit
-- date, last_date = the day the delay ran out; amount = the TTC invoiced on the order; evidence = the first
-- invoice's Chorus Pro row; advertiser = the order's.
with

invoice_payments as (
    select * from {{ ref('fct_invoice_payments') }}
),

invoices as (
    select * from {{ ref('int_invoices_deduplicated') }}
),

decisions as (
    select * from {{ ref('fct_admission_decisions') }}
),

purchase_orders as (
    select * from {{ ref('int_purchase_orders_attributed') }}
),

invoiced as (
    select
        invoice_payments.*,
        row_number() over (
            partition by invoice_payments.purchase_order_id
            order by invoice_payments.deposit_date, invoice_payments.invoice_id
        ) as evidence_rank
    from invoice_payments
    inner join invoices
        on invoice_payments.invoice_id = invoices.invoice_id
    where invoice_payments.purchase_order_id is not null and invoices.invoice_type <> 'AVOIR'
),

orders as (
    select
        purchase_order_id,
        min(deposit_date) as first_invoiced_date,
        {{ dbt.dateadd('day', var('admission_delay_days'), 'min(deposit_date)') }} as admission_due_date,
        cast(sum(amount_ttc_eur) as decimal(18, 2)) as invoiced_ttc_eur,
        max(case when evidence_rank = 1 then source_file_sha256 end) as evidence_file_sha256,
        max(case when evidence_rank = 1 then source_line end) as evidence_line
    from invoiced
    group by purchase_order_id
),

settled as (
    select orders.purchase_order_id
    from orders
    inner join decisions
        on
            orders.purchase_order_id = decisions.purchase_order_id
            and decisions.decision in ('admission', 'refaction', 'rejet')
            and decisions.decided_date <= cast(orders.admission_due_date as date)
    group by orders.purchase_order_id
),

final as (
    select
        'invoiced_before_admission' as finding_type,
        orders.purchase_order_id as entity_key,
        purchase_orders.campaign_id,
        purchase_orders.advertiser_id,
        cast(null as {{ dbt.type_string() }}) as media_seller_id,
        orders.first_invoiced_date as first_date,
        cast(orders.admission_due_date as date) as last_date,
        orders.invoiced_ttc_eur as amount_at_stake_eur,
        'chorus_pro' as evidence_source,
        orders.evidence_file_sha256,
        orders.evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from orders
    left join settled
        on orders.purchase_order_id = settled.purchase_order_id
    left join purchase_orders
        on orders.purchase_order_id = purchase_orders.purchase_order_id
    where
        settled.purchase_order_id is null
        and cast(orders.admission_due_date as date) < cast('{{ var("as_of_date") }}' as date)
)

select * from final
