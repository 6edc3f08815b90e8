-- One row per invoice, whatever the number of copies received. A document downloaded from Chorus Pro
-- belongs to its Chorus Pro invoice (idFacture, or else the invoice with the same supplier and number);
-- any other copy (e-mailed Factur-X, re-download) joins the Chorus Pro invoice whose document has the
-- same fingerprint, or stands alone. A régie's spreadsheet export counts only for an invoice that no
-- e-invoice document (valid or quarantined) gives.
-- Duplicates: among invoices in deposit order, a later one with the same supplier and number, or with
-- the same content (supplier, type, order, amounts, lines) under another number, is a duplicate.
with

documents as (
    select * from {{ ref('stg_einvoice__documents') }}
),

chorus_invoices as (
    select * from {{ ref('int_invoices_deduplicated') }}
),

rejected as (
    select distinct supplier_invoice_key
    from {{ ref('stg_einvoice__rejections') }}
    where supplier_invoice_key is not null
),

export_lines as (
    select * from {{ ref('stg_regie__invoice_export_lines') }}
),

chorus_by_number as (
    select
        supplier_invoice_key,
        min(invoice_id) as invoice_id
    from chorus_invoices
    group by supplier_invoice_key
),

downloaded as (
    select
        documents.document_fingerprint,
        min(coalesce(documents.chorus_invoice_id, chorus_by_number.invoice_id)) as chorus_invoice_id
    from documents
    left join chorus_by_number
        on documents.supplier_invoice_key = chorus_by_number.supplier_invoice_key
    where documents.received_via = 'chorus_pro'
    group by documents.document_fingerprint
),

keyed as (
    select
        documents.*,
        case
            when documents.received_via = 'chorus_pro'
                then coalesce(documents.chorus_invoice_id, chorus_by_number.invoice_id)
            else downloaded.chorus_invoice_id
        end as linked_chorus_invoice_id
    from documents
    left join chorus_by_number
        on documents.supplier_invoice_key = chorus_by_number.supplier_invoice_key
    left join downloaded
        on documents.document_fingerprint = downloaded.document_fingerprint
),

copies as (
    select
        *,
        case
            when linked_chorus_invoice_id is not null
                then {{ dbt.concat(["'chorus:'", "cast(linked_chorus_invoice_id as " ~ dbt.type_string() ~ ")"]) }}
            else {{ dbt.concat(["'document:'", "document_fingerprint"]) }}
        end as invoice_key
    from keyed
),

-- the copy that speaks for the invoice: Chorus Pro's first, then the first received
document_invoices as (
    {{ keep_one_version(
        'copies',
        ['invoice_key'],
        order_by="case when received_via = 'chorus_pro' then 0 else 1 end, received_at, source_file_sha256, document_name"
    ) }}
),

copy_counts as (
    select
        invoice_key,
        count(*) as copies_received
    from copies
    group by invoice_key
),

export_invoices as (
    select
        {{ dbt.concat(["'export:'", "export_lines.supplier_invoice_key"]) }} as invoice_key,
        export_lines.supplier_invoice_key,
        export_lines.supplier_id,
        export_lines.invoice_number,
        max(case when export_lines.is_credit_note then 1 else 0 end) = 1 as is_credit_note,
        min(export_lines.purchase_order_ref) as purchase_order_ref,
        min(export_lines.issue_date) as issue_date,
        cast(sum(export_lines.net_ht_eur) as decimal(18, 2)) as tax_exclusive_eur,
        cast(sum(export_lines.net_ttc_eur) as decimal(18, 2)) as tax_inclusive_eur,
        min(export_lines.source_file_sha256) as source_file_sha256,
        count(distinct export_lines.source_file_sha256) as copies_received
    from export_lines
    left join document_invoices
        on export_lines.supplier_invoice_key = document_invoices.supplier_invoice_key
    left join rejected
        on export_lines.supplier_invoice_key = rejected.supplier_invoice_key
    where document_invoices.invoice_key is null and rejected.supplier_invoice_key is null
    group by export_lines.supplier_invoice_key, export_lines.supplier_id, export_lines.invoice_number
),

unioned as (
    select
        document_invoices.invoice_key,
        document_invoices.supplier_invoice_key,
        document_invoices.supplier_id,
        document_invoices.invoice_number,
        document_invoices.linked_chorus_invoice_id as chorus_invoice_id,
        document_invoices.received_via,
        document_invoices.type_code,
        document_invoices.is_credit_note,
        document_invoices.purchase_order_ref,
        document_invoices.buyer_siret,
        document_invoices.preceding_invoices,
        document_invoices.issue_date,
        document_invoices.tax_exclusive_eur,
        document_invoices.tax_inclusive_eur,
        document_invoices.document_fingerprint,
        document_invoices.content_fingerprint,
        copy_counts.copies_received,
        document_invoices.source_file_sha256,
        document_invoices.document_name
    from document_invoices
    inner join copy_counts
        on document_invoices.invoice_key = copy_counts.invoice_key
    union all
    select
        invoice_key,
        supplier_invoice_key,
        supplier_id,
        invoice_number,
        cast(null as bigint) as chorus_invoice_id,
        'export' as received_via,
        case when is_credit_note then '381' else '380' end as type_code,
        is_credit_note,
        purchase_order_ref,
        cast(null as {{ dbt.type_string() }}) as buyer_siret,
        cast(null as {{ dbt.type_string() }}) as preceding_invoices,
        issue_date,
        tax_exclusive_eur,
        tax_inclusive_eur,
        cast(null as {{ dbt.type_string() }}) as document_fingerprint,
        cast(null as {{ dbt.type_string() }}) as content_fingerprint,
        copies_received,
        source_file_sha256,
        cast(null as {{ dbt.type_string() }}) as document_name
    from export_invoices
),

with_deposit as (
    select
        unioned.*,
        chorus_invoices.deposit_date,
        coalesce(chorus_invoices.deposit_date, unioned.issue_date) as arrival_date
    from unioned
    left join chorus_invoices
        on unioned.chorus_invoice_id = chorus_invoices.invoice_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by supplier_invoice_key
            order by arrival_date, chorus_invoice_id, invoice_key
        ) as number_rank,
        row_number() over (
            partition by content_fingerprint
            order by arrival_date, chorus_invoice_id, invoice_key
        ) as content_rank,
        first_value(invoice_number) over (
            partition by content_fingerprint
            order by arrival_date, chorus_invoice_id, invoice_key
        ) as content_first_number
    from with_deposit
),

final as (
    select
        invoice_key,
        supplier_invoice_key,
        supplier_id,
        invoice_number,
        chorus_invoice_id,
        received_via,
        type_code,
        is_credit_note,
        case when is_credit_note then -1 else 1 end as amount_sign,
        purchase_order_ref,
        buyer_siret,
        preceding_invoices,
        issue_date,
        deposit_date,
        tax_exclusive_eur,
        tax_inclusive_eur,
        copies_received,
        number_rank > 1 or (content_fingerprint is not null and content_rank > 1) as is_duplicate,
        case
            when number_rank > 1 then 'same_number'
            when content_fingerprint is not null and content_rank > 1 then 'same_content'
        end as duplicate_reason,
        case
            when number_rank > 1 then invoice_number
            when content_fingerprint is not null and content_rank > 1 then content_first_number
        end as duplicate_of_invoice_number,
        document_fingerprint,
        content_fingerprint,
        source_file_sha256,
        document_name
    from ranked
)

select * from final
