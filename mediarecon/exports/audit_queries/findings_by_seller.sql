-- Findings by seller (constats par régie): count and euros at stake per media seller and finding type
-- ("(none)": the agency's own invoices and fees, contract-wide findings, delivery no order line covers).
select
    coalesce(findings.media_seller_id, '(none)') as media_seller_id,
    sellers.media_seller_name,
    findings.finding_type,
    count(*) as findings,
    sum(findings.amount_at_stake_eur) as amount_at_stake_eur
from fct_findings as findings
left join reference.media_sellers as sellers
    on findings.media_seller_id = sellers.media_seller_id
group by all
order by media_seller_id, finding_type
