-- Missing rebates (remises et ristournes manquantes): year-end rebates not (fully) credited, and order discounts absent from invoices.
select
    'missing_deferred_rebate' as kind,
    advertiser_id || '|' || media_seller_id || '|' || service_year as entity_key,
    media_seller_id,
    expected_rebate_eur as expected_eur,
    received_rebate_eur as received_eur,
    missing_rebate_eur as missing_eur
from fct_deferred_rebates
where is_missing
union all
select
    'missing_discount' as kind,
    order_line_id as entity_key,
    media_seller_id,
    null as expected_eur,
    null as received_eur,
    missing_discount_ht_eur as missing_eur
from fct_order_line_delivery
where missing_discount_ht_eur > 0
order by missing_eur desc, entity_key
