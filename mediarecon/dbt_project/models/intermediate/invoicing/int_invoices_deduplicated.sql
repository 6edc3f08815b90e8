-- An invoice seen on several search pages (overlapping sync windows, later statuses): the row with
-- the latest current status wins; among copies of that same status, the first received (so that the
-- evidence does not move when an overlapping window shows it again).
with

latest as (
    {{ keep_one_version(
        ref('stg_chorus_pro__invoices'),
        ['invoice_id'],
        order_by='current_status_at desc, received_at, source_file_sha256, source_line'
    ) }}
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
