-- An invoice seen on several search pages (overlapping sync windows, later statuses): the row with
-- the latest current status wins.
with

latest as (
    {{ latest_received(ref('stg_chorus_pro__invoices'), ['invoice_id'], newest_first='current_status_at') }}
),

final as (
    select
        invoice_id,
        invoice_number,
        supplier_id,
        supplier_invoice_key,
        supplier_name,
        recipient_siret,
        service_code,
        purchase_order_ref,
        invoice_type,
        current_status,
        amount_ht_eur,
        vat_eur,
        amount_ttc_eur,
        invoice_date,
        deposit_date,
        current_status_at,
        source_file_sha256,
        source_line
    from latest
)

select * from final
