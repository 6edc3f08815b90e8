-- Social insertion (CCAP 11.5): the agency owes one hour of insertion work per 1 250 EUR HT billed on
-- coordination and steering services (UO 01), per year of invoice.
with

invoice_lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

agencies as (
    select * from {{ ref('agencies') }}
),

purchase_orders as (
    select * from {{ ref('int_purchase_orders_deduplicated') }}
),

billed as (
    select
        cast(extract(year from invoice_lines.issue_date) as integer) as billing_year,
        cast(sum(invoice_lines.signed_net_ht_eur) as decimal(18, 2)) as coordination_billed_ht_eur,
        count(distinct invoice_lines.invoice_key) as coordination_invoices
    from invoice_lines
    inner join agencies
        on invoice_lines.supplier_id = agencies.siret
    inner join purchase_orders
        on invoice_lines.purchase_order_ref = purchase_orders.purchase_order_id
    where not invoice_lines.is_duplicate and purchase_orders.uo_code like '01%'
    group by cast(extract(year from invoice_lines.issue_date) as integer)
),

final as (
    select
        billing_year,
        coordination_invoices,
        coordination_billed_ht_eur,
        {{ to_decimal(divide('coordination_billed_ht_eur', var('social_insertion_eur_per_hour')), 12, 2) }}
            as insertion_hours_due
    from billed
)

select * from final
