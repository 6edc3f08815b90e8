-- A purchase order re-exported by the agency appears in several files: the latest received wins.
with

latest as (
    {{ keep_one_version(ref('stg_agency__purchase_orders'), ['purchase_order_id']) }}
),

final as (
    select
        purchase_order_id,
        campaign_id,
        campaign_name,
        advertiser_siret,
        advertiser_name,
        chorus_service_code,
        uo_code,
        gross_ht_eur,
        net_ht_eur,
        vat_eur,
        net_ttc_eur,
        fee_rate_pct,
        fee_ht_eur,
        order_date,
        start_date,
        end_date,
        source_file_sha256,
        source_line
    from latest
)

select * from final
