-- The price waterfall of each invoice line, CCAP 12.2.1 (the agency's fee is a % of the net after every
-- discount, so each discount must be seen) and Loi Sapin art. 20 (every discount appears on the invoice):
-- gross (list price x quantity) -> each discount type -> net. On an e-invoice, allowances are typed by
-- their reason (then reason code) through the discount_reasons seed; untyped allowances and price
-- discounts (BT-147) are other discounts; line charges add to the net. A régie export row states its
-- discounts by type itself. The gross is worked back from the net: net + discounts - charges.
-- Grain: one row per invoice line (int_invoice_lines_unioned).
with

invoice_lines as (
    select * from {{ ref('int_invoice_lines_unioned') }}
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

-- each discount type: what the line states (an export row) plus the allowances of that type (an e-invoice)
discounted as (
    select
        invoice_lines.*,
        invoice_lines.volume_discount_eur + coalesce(line_allowances.volume_discount_eur, 0)
            as line_volume_discount_eur,
        invoice_lines.public_interest_discount_eur + coalesce(line_allowances.public_interest_discount_eur, 0)
            as line_public_interest_discount_eur,
        invoice_lines.professional_discount_eur + coalesce(line_allowances.professional_discount_eur, 0)
            as line_professional_discount_eur,
        invoice_lines.cumul_mandats_discount_eur + coalesce(line_allowances.cumul_mandats_discount_eur, 0)
            as line_cumul_mandats_discount_eur,
        coalesce(line_allowances.other_allowances_eur, 0)
        + coalesce(
            {{ to_decimal(
                divide('invoice_lines.quantity * invoice_lines.price_discount_eur', 'invoice_lines.price_base_quantity'),
                18, 2
            ) }},
            0
        ) as line_other_discounts_eur,
        coalesce(line_allowances.charges_eur, 0) as line_charges_eur
    from invoice_lines
    left join line_allowances
        on
            invoice_lines.source_file_sha256 = line_allowances.source_file_sha256
            and invoice_lines.document_name = line_allowances.document_name
            and invoice_lines.line_id = line_allowances.line_id
),

final as (
    select
        invoice_line_id,
        invoice_key,
        line_id,
        supplier_invoice_key,
        supplier_id,
        invoice_number,
        is_credit_note,
        amount_sign,
        is_duplicate,
        received_via,
        issue_date,
        purchase_order_ref,
        order_line_reference,
        description,
        quantity,
        price_base_quantity,
        unit_price_eur,
        cast(
            net_ht_eur + line_volume_discount_eur + line_public_interest_discount_eur
            + line_professional_discount_eur + line_cumul_mandats_discount_eur
            + line_other_discounts_eur - line_charges_eur
            as decimal(18, 2)
        ) as gross_ht_eur,
        cast(line_volume_discount_eur as decimal(18, 2)) as volume_discount_eur,
        cast(line_public_interest_discount_eur as decimal(18, 2)) as public_interest_discount_eur,
        cast(line_professional_discount_eur as decimal(18, 2)) as professional_discount_eur,
        cast(line_cumul_mandats_discount_eur as decimal(18, 2)) as cumul_mandats_discount_eur,
        cast(line_other_discounts_eur as decimal(18, 2)) as other_discounts_eur,
        cast(line_charges_eur as decimal(18, 2)) as charges_eur,
        cast(net_ht_eur as decimal(18, 2)) as net_ht_eur,
        vat_rate_pct,
        source_file_sha256,
        document_name,
        source_line
    from discounted
)

select * from final
