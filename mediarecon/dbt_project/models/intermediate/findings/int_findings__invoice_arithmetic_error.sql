-- Finding invoice_arithmetic_error. Rule: CCAP 12.4.4 (2), invoices reach the State as e-invoices in the
-- standard format (EN 16931): a document whose totals break its arithmetic (rules BR-CO-10 to BR-CO-16)
-- is quarantined, not counted as invoiced.
-- Grain: one row per invoice (supplier_id|invoice_number) with a BR-CO rejection, every copy of it
-- together; amount = the smallest gap between expected and stated totals; evidence = the copy in the file
-- of lowest sha256. Advertiser: the recipient of the Chorus Pro invoice of that supplier and number, else
-- the buyer the document names.
with

einvoice_rejections as (
    select * from {{ ref('stg_einvoice__rejections') }}
),

invoice_payments as (
    select * from {{ ref('fct_invoice_payments') }}
),

advertisers as (
    select * from {{ ref('advertisers') }}
),

arithmetic_errors as (
    select
        einvoice_rejections.*,
        buyers.advertiser_id as buyer_advertiser_id,
        row_number() over (
            partition by einvoice_rejections.supplier_invoice_key
            order by einvoice_rejections.source_file_sha256, einvoice_rejections.document_name
        ) as evidence_rank
    from einvoice_rejections
    left join advertisers as buyers
        on einvoice_rejections.buyer_siret = buyers.siret
    where einvoice_rejections.rule like 'BR-CO-%' and einvoice_rejections.supplier_invoice_key is not null
),

-- a number deposited twice in Chorus Pro is one invoice for one recipient; min() only makes it deterministic
chorus_recipients as (
    select
        supplier_invoice_key,
        min(advertiser_id) as advertiser_id
    from invoice_payments
    group by supplier_invoice_key
),

invoices as (
    select
        supplier_invoice_key,
        min(supplier_id) as supplier_id,
        min(issue_date) as issue_date,
        min(abs(expected_eur - stated_eur)) as gap_eur,
        min(buyer_advertiser_id) as buyer_advertiser_id,
        min(source_file_sha256) as evidence_file_sha256,
        max(
            case when evidence_rank = 1 then {{ batch_document_name('document_name') }} end
        ) as evidence_document_name
    from arithmetic_errors
    group by supplier_invoice_key
),

media_sellers as (
    select * from {{ ref('media_sellers') }}
),

final as (
    select
        'invoice_arithmetic_error' as finding_type,
        invoices.supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        coalesce(chorus_recipients.advertiser_id, invoices.buyer_advertiser_id) as advertiser_id,
        media_sellers.media_seller_id,
        invoices.issue_date as first_date,
        invoices.issue_date as last_date,
        cast(invoices.gap_eur as decimal(18, 2)) as amount_at_stake_eur,
        'einvoice' as evidence_source,
        invoices.evidence_file_sha256,
        cast(null as bigint) as evidence_line,
        invoices.evidence_document_name
    from invoices
    left join chorus_recipients
        on invoices.supplier_invoice_key = chorus_recipients.supplier_invoice_key
    left join media_sellers
        on invoices.supplier_id = media_sellers.siret
)

select * from final
