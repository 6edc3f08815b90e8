-- Agency fees (CCAP 12.2.1): per purchase order, the fee the schedule gives (fee_schedule by UO and
-- media: % of each order line's net media HT; per thousand e-mails, per click ordered, or a flat price
-- per line for UO 02-05-01/02/04), the same rate
-- applied to the gross (what a fee "on gross" would be), and the fee the agency invoiced (its invoices
-- quoting the order, duplicates left out, credit notes deducted). An overcharge beyond fee_tolerance_eur
-- is fee_on_gross when the invoiced fee is the gross-based one, wrong_fee_rate otherwise. A schedule row
-- without a media type (a special operation's UO) applies to any media of that UO: each line takes one
-- rate, so a special operation's % replaces the media %, never adds to it.
with

order_lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

fee_schedule as (
    select * from {{ ref('fee_schedule') }}
),

line_terms as (
    select
        order_lines.*,
        -- the schedule's terms, not the rate the agency wrote on its export (order_lines.fee_rate_pct)
        coalesce(by_media.fee_basis, by_uo.fee_basis) as schedule_basis,
        coalesce(by_media.fee_rate_pct, by_uo.fee_rate_pct) as schedule_rate_pct,
        coalesce(by_media.fee_unit_price_eur, by_uo.fee_unit_price_eur) as schedule_unit_price_eur
    from order_lines
    left join fee_schedule as by_media
        on
            order_lines.uo_code = by_media.uo_code
            and order_lines.media_type = by_media.media_type
    left join fee_schedule as by_uo
        on
            order_lines.uo_code = by_uo.uo_code
            and by_uo.media_type is null
),

-- per line: the share of its media amount the fee takes, or the fee that does not depend on it
line_fees as (
    select
        purchase_order_id,
        net_ht_eur,
        gross_ht_eur,
        source_file_sha256,
        case when schedule_basis = 'pct_net_media' then schedule_rate_pct else 0 end as media_share_pct,
        case schedule_basis
            when 'cpm' then {{ to_decimal(divide('ordered_quantity * schedule_unit_price_eur', 1000), 28, 8) }}
            when 'cpc' then ordered_quantity * schedule_unit_price_eur
            when 'flat' then schedule_unit_price_eur
            else 0
        end as unit_fee_eur
    from line_terms
),

agencies as (
    select * from {{ ref('agencies') }}
),

invoice_lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

expected as (
    select
        purchase_order_id,
        -- each line's fee as an exact decimal (8 places hold net x rate / 100), summed exactly: a sum of
        -- doubles depends on the order the engine adds them in (a cent apart between DuckDB and Spark)
        cast(
            sum({{ to_decimal(divide('net_ht_eur * media_share_pct', 100), 28, 8) }} + unit_fee_eur)
            as decimal(18, 2)
        ) as expected_fee_ht_eur,
        cast(
            sum({{ to_decimal(divide('gross_ht_eur * media_share_pct', 100), 28, 8) }} + unit_fee_eur)
            as decimal(18, 2)
        ) as fee_on_gross_ht_eur,
        cast(sum(net_ht_eur) as decimal(18, 2)) as net_media_ht_eur,
        min(source_file_sha256) as source_file_sha256
    from line_fees
    group by purchase_order_id
),

agency_invoice_lines as (
    select
        invoice_lines.*,
        -- the evidence is the invoice file of lowest sha256; this names the document in it (a ZIP batch
        -- holds several)
        row_number() over (
            partition by invoice_lines.purchase_order_ref
            order by invoice_lines.source_file_sha256, invoice_lines.document_name
        ) as evidence_rank
    from invoice_lines
    inner join agencies
        on invoice_lines.supplier_id = agencies.siret
    where not invoice_lines.is_duplicate
),

invoiced as (
    select
        purchase_order_ref as purchase_order_id,
        cast(sum(signed_net_ht_eur) as decimal(18, 2)) as invoiced_fee_ht_eur,
        count(distinct invoice_key) as fee_invoices,
        min(issue_date) as first_invoice_date,
        max(issue_date) as last_invoice_date,
        min(source_file_sha256) as invoice_file_sha256,
        max(
            case when evidence_rank = 1 then {{ batch_document_name('document_name') }} end
        ) as invoice_document_name
    from agency_invoice_lines
    group by purchase_order_ref
),

final as (
    select
        expected.purchase_order_id,
        expected.net_media_ht_eur,
        expected.expected_fee_ht_eur,
        expected.fee_on_gross_ht_eur,
        coalesce(invoiced.invoiced_fee_ht_eur, 0) as invoiced_fee_ht_eur,
        coalesce(invoiced.fee_invoices, 0) as fee_invoices,
        cast(coalesce(invoiced.invoiced_fee_ht_eur, 0) - expected.expected_fee_ht_eur as decimal(18, 2))
            as overcharge_ht_eur,
        case
            when
                coalesce(invoiced.invoiced_fee_ht_eur, 0) - expected.expected_fee_ht_eur
                <= {{ var('fee_tolerance_eur') }} then null
            when
                abs(invoiced.invoiced_fee_ht_eur - expected.fee_on_gross_ht_eur)
                <= {{ var('fee_tolerance_eur') }} then 'fee_on_gross'
            else 'wrong_fee_rate'
        end as fee_issue,
        invoiced.first_invoice_date,
        invoiced.last_invoice_date,
        coalesce(invoiced.invoice_file_sha256, expected.source_file_sha256) as source_file_sha256,
        invoiced.invoice_document_name as source_document_name
    from expected
    left join invoiced
        on expected.purchase_order_id = invoiced.purchase_order_id
)

select * from final
