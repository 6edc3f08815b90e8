-- Fees above schedule (honoraires au-dessus du barème): purchase orders whose agency fee invoiced exceeds the schedule's fee on the net.
select
    purchase_order_id,
    net_media_ht_eur,
    expected_fee_ht_eur,
    invoiced_fee_ht_eur,
    overcharge_ht_eur,
    fee_issue,
    first_invoice_date,
    last_invoice_date
from fct_agency_fees
where overcharge_ht_eur > 0
order by overcharge_ht_eur desc, purchase_order_id
