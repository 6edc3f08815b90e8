-- What was invoiced per order line: quantities and the gross -> discounts -> net waterfall of its
-- invoice lines, credit notes apart; duplicate invoices do not count (they are findings of their own).
with

invoice_lines as (
    select * from {{ ref('int_invoice_lines_matched') }}
    where order_line_id is not null and not is_duplicate
),

final as (
    select
        order_line_id,
        cast(sum(case when not is_credit_note then quantity else 0 end) as decimal(18, 4)) as invoiced_quantity,
        cast(sum(case when not is_credit_note then gross_ht_eur else 0 end) as decimal(18, 2)) as invoiced_gross_ht_eur,
        cast(sum(case when not is_credit_note then volume_discount_eur else 0 end) as decimal(18, 2))
            as invoiced_volume_discount_eur,
        cast(sum(case when not is_credit_note then public_interest_discount_eur else 0 end) as decimal(18, 2))
            as invoiced_public_interest_discount_eur,
        cast(sum(case when not is_credit_note then professional_discount_eur else 0 end) as decimal(18, 2))
            as invoiced_professional_discount_eur,
        cast(sum(case when not is_credit_note then cumul_mandats_discount_eur else 0 end) as decimal(18, 2))
            as invoiced_cumul_mandats_discount_eur,
        cast(sum(case when not is_credit_note then other_discounts_eur else 0 end) as decimal(18, 2))
            as invoiced_other_discounts_eur,
        cast(sum(case when not is_credit_note then net_ht_eur else 0 end) as decimal(18, 2)) as invoiced_net_ht_eur,
        cast(sum(case when is_credit_note then net_ht_eur else 0 end) as decimal(18, 2)) as credited_net_ht_eur,
        count(distinct case when not is_credit_note then invoice_key end) as invoice_count,
        count(distinct case when is_credit_note then invoice_key end) as credit_note_count,
        min(case when not is_credit_note then issue_date end) as first_invoice_date,
        max(case when not is_credit_note then issue_date end) as last_invoice_date
    from invoice_lines
    group by order_line_id
)

select * from final
