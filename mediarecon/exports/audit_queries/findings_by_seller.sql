-- Findings by seller (constats par régie): count and euros at stake per media seller and finding type.
with

line_sellers as (
    select distinct
        order_line_id as entity_key,
        media_seller_id
    from fct_order_line_delivery
),

invoice_sellers as (
    select distinct
        payments.supplier_invoice_key as entity_key,
        sellers.media_seller_id
    from fct_invoice_payments as payments
    inner join reference.media_sellers as sellers
        on payments.supplier_id = sellers.siret
),

findings as (
    select
        findings.finding_type,
        findings.amount_at_stake_eur,
        coalesce(
            line_sellers.media_seller_id,
            invoice_sellers.media_seller_id,
            case when findings.finding_type = 'missing_deferred_rebate' then split_part(findings.entity_key, '|', 2) end
        ) as media_seller_id
    from fct_findings as findings
    left join line_sellers
        on findings.entity_key = line_sellers.entity_key
    left join invoice_sellers
        on findings.entity_key = invoice_sellers.entity_key
)

select
    coalesce(findings.media_seller_id, '(none)') as media_seller_id,
    sellers.media_seller_name,
    findings.finding_type,
    count(*) as findings,
    sum(findings.amount_at_stake_eur) as amount_at_stake_eur
from findings
left join reference.media_sellers as sellers
    on findings.media_seller_id = sellers.media_seller_id
group by all
order by media_seller_id, finding_type
