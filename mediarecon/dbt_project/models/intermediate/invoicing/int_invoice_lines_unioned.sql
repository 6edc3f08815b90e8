-- One row per line of each invoice: the lines of the e-invoice that speaks for it, or the régie export's
-- rows for an invoice known only from the export, with the invoice's identity and flags and the amounts
-- as the line states them. The discounts typed on an export row are carried as they are (0 on an
-- e-invoice line, whose discounts arrive as allowances); int_invoice_lines_price_waterfall adds the
-- allowances and works out the gross.
with

invoices as (
    select * from {{ ref('int_invoices_identified') }}
),

lines as (
    select * from {{ ref('stg_einvoice__lines') }}
),

export_lines as (
    select * from {{ ref('stg_regie__invoice_export_lines') }}
),

document_lines as (
    select
        invoices.invoice_key,
        lines.line_id,
        lines.order_line_reference,
        lines.description,
        lines.quantity,
        lines.price_base_quantity,
        lines.net_price_eur as unit_price_eur,
        lines.price_discount_eur,
        cast(0 as decimal(18, 2)) as volume_discount_eur,
        cast(0 as decimal(18, 2)) as public_interest_discount_eur,
        cast(0 as decimal(18, 2)) as professional_discount_eur,
        cast(0 as decimal(18, 2)) as cumul_mandats_discount_eur,
        lines.net_amount_eur as net_ht_eur,
        lines.vat_rate_pct,
        lines.source_file_sha256,
        lines.document_name,
        cast(null as bigint) as source_line
    from invoices
    inner join lines
        on
            invoices.source_file_sha256 = lines.source_file_sha256
            and invoices.document_name = lines.document_name
),

exported_lines as (
    select
        invoices.invoice_key,
        cast(export_lines.source_line as {{ dbt.type_string() }}) as line_id,
        export_lines.order_line_reference,
        export_lines.description,
        export_lines.quantity,
        export_lines.price_base_quantity,
        export_lines.unit_gross_price_eur as unit_price_eur,
        cast(null as decimal(18, 6)) as price_discount_eur,
        export_lines.volume_discount_eur,
        export_lines.public_interest_discount_eur,
        export_lines.professional_discount_eur,
        export_lines.cumul_mandats_discount_eur,
        export_lines.net_ht_eur,
        export_lines.vat_rate_pct,
        export_lines.source_file_sha256,
        cast(null as {{ dbt.type_string() }}) as document_name,
        export_lines.source_line
    from invoices
    inner join export_lines
        on
            invoices.received_via = 'export'
            and invoices.supplier_invoice_key = export_lines.supplier_invoice_key
            and invoices.source_file_sha256 = export_lines.source_file_sha256
),

unioned as (
    select * from document_lines
    union all
    select * from exported_lines
),

final as (
    select
        {{ dbt.concat(["unioned.invoice_key", "'#'", "unioned.line_id"]) }} as invoice_line_id,
        unioned.invoice_key,
        unioned.line_id,
        invoices.supplier_invoice_key,
        invoices.supplier_id,
        invoices.invoice_number,
        invoices.is_credit_note,
        invoices.amount_sign,
        invoices.is_duplicate,
        invoices.received_via,
        invoices.issue_date,
        invoices.purchase_order_ref,
        unioned.order_line_reference,
        unioned.description,
        unioned.quantity,
        unioned.price_base_quantity,
        unioned.unit_price_eur,
        unioned.price_discount_eur,
        unioned.volume_discount_eur,
        unioned.public_interest_discount_eur,
        unioned.professional_discount_eur,
        unioned.cumul_mandats_discount_eur,
        unioned.net_ht_eur,
        unioned.vat_rate_pct,
        unioned.source_file_sha256,
        unioned.document_name,
        unioned.source_line
    from unioned
    inner join invoices
        on unioned.invoice_key = invoices.invoice_key
)

select * from final
