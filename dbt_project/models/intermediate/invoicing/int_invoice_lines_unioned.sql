-- One row per line of each invoice (the copy that speaks for it, or the export's rows), with its
-- waterfall: gross (list price x quantity) -> each discount type -> net. Allowances are typed by their
-- reason (then reason code) through the discount_reasons seed; untyped allowances and price discounts
-- (BT-147) are other discounts; line charges add to the net.
with

invoices as (
    select * from {{ ref('int_invoices_identified') }}
),

lines as (
    select * from {{ ref('stg_einvoice__lines') }}
),

allowances as (
    select * from {{ ref('stg_einvoice__allowances') }}
),

discount_reasons as (
    select * from {{ ref('discount_reasons') }}
),

reason_codes as (
    select distinct
        reason_code,
        discount_type
    from discount_reasons
    where reason_code is not null
),

export_lines as (
    select * from {{ ref('stg_regie__invoice_export_lines') }}
),

typed_allowances as (
    select
        allowances.source_file_sha256,
        allowances.document_name,
        allowances.line_id,
        allowances.is_charge,
        allowances.amount_eur,
        coalesce(by_reason.discount_type, by_code.discount_type, 'other') as discount_type
    from allowances
    left join discount_reasons as by_reason
        on lower(trim(allowances.reason)) = by_reason.reason
    left join reason_codes as by_code
        on allowances.reason_code = by_code.reason_code
    where allowances.line_id is not null
),

line_allowances as (
    select
        source_file_sha256,
        document_name,
        line_id,
        sum(case when not is_charge and discount_type = 'volume' then amount_eur else 0 end) as volume_discount_eur,
        sum(case when not is_charge and discount_type = 'public_interest' then amount_eur else 0 end)
            as public_interest_discount_eur,
        sum(case when not is_charge and discount_type = 'professional' then amount_eur else 0 end)
            as professional_discount_eur,
        sum(case when not is_charge and discount_type = 'cumul_mandats' then amount_eur else 0 end)
            as cumul_mandats_discount_eur,
        sum(case when not is_charge and discount_type = 'other' then amount_eur else 0 end) as other_allowances_eur,
        sum(case when is_charge then amount_eur else 0 end) as charges_eur
    from typed_allowances
    group by source_file_sha256, document_name, line_id
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
        coalesce(line_allowances.volume_discount_eur, 0) as volume_discount_eur,
        coalesce(line_allowances.public_interest_discount_eur, 0) as public_interest_discount_eur,
        coalesce(line_allowances.professional_discount_eur, 0) as professional_discount_eur,
        coalesce(line_allowances.cumul_mandats_discount_eur, 0) as cumul_mandats_discount_eur,
        coalesce(line_allowances.other_allowances_eur, 0)
        + coalesce(cast(lines.quantity * lines.price_discount_eur / lines.price_base_quantity as decimal(18, 2)), 0)
            as other_discounts_eur,
        coalesce(line_allowances.charges_eur, 0) as charges_eur,
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
    left join line_allowances
        on
            lines.source_file_sha256 = line_allowances.source_file_sha256
            and lines.document_name = line_allowances.document_name
            and lines.line_id = line_allowances.line_id
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
        export_lines.volume_discount_eur,
        export_lines.public_interest_discount_eur,
        export_lines.professional_discount_eur,
        export_lines.cumul_mandats_discount_eur,
        cast(0 as decimal(18, 2)) as other_discounts_eur,
        cast(0 as decimal(18, 2)) as charges_eur,
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
        cast(
            unioned.net_ht_eur + unioned.volume_discount_eur + unioned.public_interest_discount_eur
            + unioned.professional_discount_eur + unioned.cumul_mandats_discount_eur
            + unioned.other_discounts_eur - unioned.charges_eur
            as decimal(18, 2)
        ) as gross_ht_eur,
        cast(unioned.volume_discount_eur as decimal(18, 2)) as volume_discount_eur,
        cast(unioned.public_interest_discount_eur as decimal(18, 2)) as public_interest_discount_eur,
        cast(unioned.professional_discount_eur as decimal(18, 2)) as professional_discount_eur,
        cast(unioned.cumul_mandats_discount_eur as decimal(18, 2)) as cumul_mandats_discount_eur,
        cast(unioned.other_discounts_eur as decimal(18, 2)) as other_discounts_eur,
        cast(unioned.charges_eur as decimal(18, 2)) as charges_eur,
        cast(unioned.net_ht_eur as decimal(18, 2)) as net_ht_eur,
        unioned.vat_rate_pct,
        unioned.source_file_sha256,
        unioned.document_name,
        unioned.source_line
    from unioned
    inner join invoices
        on unioned.invoice_key = invoices.invoice_key
)

select * from final
