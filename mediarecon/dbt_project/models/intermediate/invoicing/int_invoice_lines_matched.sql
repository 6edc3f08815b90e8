-- Each invoice line matched to at most one order line. Candidates are the lines of the purchase order
-- the invoice quotes (BT-13) bought from the invoicing seller; among them, the order line the invoice
-- line names (BT-132) wins, then the one whose ordered net is closest to the line's net.
with

invoice_lines as (
    select * from {{ ref('int_invoice_lines_price_waterfall') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

candidates as (
    select
        invoice_lines.invoice_line_id,
        order_lines.order_line_id,
        case
            when
                trim(leading '0' from invoice_lines.order_line_reference)
                = cast(order_lines.line_number as {{ dbt.type_string() }})
                then 'order_line_reference'
            else 'seller_and_amount'
        end as match_method,
        row_number() over (
            partition by invoice_lines.invoice_line_id
            order by
                case
                    when
                        trim(leading '0' from invoice_lines.order_line_reference)
                        = cast(order_lines.line_number as {{ dbt.type_string() }})
                        then 0
                    else 1
                end,
                abs(order_lines.net_ht_eur - invoice_lines.net_ht_eur),
                order_lines.order_line_id
        ) as candidate_rank
    from invoice_lines
    inner join order_lines
        on
            invoice_lines.purchase_order_ref = order_lines.purchase_order_id
            and invoice_lines.supplier_id = order_lines.media_seller_siret
),

final as (
    select
        invoice_lines.*,
        candidates.order_line_id,
        coalesce(candidates.match_method, 'unmatched') as match_method
    from invoice_lines
    left join candidates
        on
            invoice_lines.invoice_line_id = candidates.invoice_line_id
            and candidates.candidate_rank = 1
)

select * from final
