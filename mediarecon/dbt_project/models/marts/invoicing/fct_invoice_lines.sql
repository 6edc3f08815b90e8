-- One row per invoice line received (e-invoice, or régie export when no e-invoice gives the invoice):
-- the gross -> discounts -> net waterfall, the order line it bills and the invoice's duplicate flag.
-- Credit notes keep their amounts positive, as written; signed_net_ht_eur carries the sign.
with

invoice_lines as (
    select * from {{ ref('int_invoice_lines_matched') }}
),

invoices as (
    select * from {{ ref('int_invoices_identified') }}
),

final as (
    select
        invoice_lines.invoice_line_id,
        invoice_lines.invoice_key,
        invoice_lines.line_id,
        invoice_lines.supplier_invoice_key,
        invoice_lines.supplier_id,
        invoice_lines.invoice_number,
        invoices.type_code,
        invoice_lines.is_credit_note,
        invoices.preceding_invoices,
        invoice_lines.issue_date,
        invoice_lines.received_via,
        invoices.chorus_invoice_id,
        invoices.copies_received,
        invoice_lines.is_duplicate,
        invoices.duplicate_reason,
        invoices.duplicate_of_invoice_number,
        invoice_lines.purchase_order_ref,
        invoice_lines.order_line_reference,
        invoice_lines.order_line_id,
        invoice_lines.match_method,
        invoice_lines.description,
        cast(invoice_lines.quantity as decimal(18, 4)) as quantity,
        cast(invoice_lines.price_base_quantity as decimal(18, 4)) as price_base_quantity,
        cast(invoice_lines.unit_price_eur as decimal(18, 6)) as unit_price_eur,
        invoice_lines.gross_ht_eur,
        invoice_lines.volume_discount_eur,
        invoice_lines.public_interest_discount_eur,
        invoice_lines.professional_discount_eur,
        invoice_lines.cumul_mandats_discount_eur,
        invoice_lines.other_discounts_eur,
        invoice_lines.charges_eur,
        invoice_lines.net_ht_eur,
        cast(invoice_lines.amount_sign * invoice_lines.net_ht_eur as decimal(18, 2)) as signed_net_ht_eur,
        cast(invoice_lines.vat_rate_pct as decimal(9, 4)) as vat_rate_pct,
        invoice_lines.source_file_sha256,
        invoice_lines.document_name,
        invoice_lines.source_line
    from invoice_lines
    inner join invoices
        on invoice_lines.invoice_key = invoices.invoice_key
)

select * from final
