-- Late payments (retards de paiement): invoices paid after the legal delay, with moratory interest and the 40 EUR indemnity owed.
select
    supplier_invoice_key,
    advertiser_id,
    amount_ttc_eur,
    payment_due_date,
    payment_date,
    days_late,
    interest_rate_pct,
    interest_eur,
    recovery_indemnity_eur,
    amount_due_eur
from fct_payment_delay_interest
order by amount_due_eur desc, supplier_invoice_key
