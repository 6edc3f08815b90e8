-- Finding invoice_without_order. Rule: CCAP 12.4.4 (1), an invoice quotes the purchase order's number
-- (numéro d'engagement juridique, numeroBonCommande in Chorus Pro).
-- Grain: one row per Chorus Pro invoice quoting no purchase-order number or an unknown one;
-- entity_key = supplier_id|invoice_number; amount = its TTC; advertiser = its recipient's.
with

invoice_payments as (
    select * from {{ ref('fct_invoice_payments') }}
),

media_sellers as (
    select * from {{ ref('media_sellers') }}
),

final as (
    select
        'invoice_without_order' as finding_type,
        invoice_payments.supplier_invoice_key as entity_key,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        -- the invoice's recipient (its order is unknown by definition)
        invoice_payments.advertiser_id,
        media_sellers.media_seller_id,
        invoice_payments.deposit_date as first_date,
        invoice_payments.deposit_date as last_date,
        cast(invoice_payments.amount_ttc_eur as decimal(18, 2)) as amount_at_stake_eur,
        'chorus_pro' as evidence_source,
        invoice_payments.source_file_sha256 as evidence_file_sha256,
        invoice_payments.source_line as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from invoice_payments
    left join media_sellers
        on invoice_payments.supplier_id = media_sellers.siret
    where not invoice_payments.has_known_order
)

select * from final
