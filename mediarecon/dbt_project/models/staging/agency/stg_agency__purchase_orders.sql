with

source as (
    select * from {{ source('agency', 'purchase_orders') }}
),

renamed as (
    select
        -- ids
        purchase_order_id,
        campaign_id,
        advertiser_siret,
        chorus_service_code,
        uo_code,
        -- text
        advertiser_name,
        campaign_name,
        -- money
        gross_ht_eur,
        net_ht_eur,
        vat_eur,
        net_ttc_eur,
        fee_rate_pct,
        fee_ht_eur,
        -- dates
        order_date,
        start_date,
        end_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
