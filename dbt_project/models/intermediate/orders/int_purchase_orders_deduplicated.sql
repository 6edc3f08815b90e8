-- A purchase order re-exported by the agency appears in several files: the latest received wins.
with

purchase_orders as (
    select * from {{ ref('stg_agency__purchase_orders') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by purchase_order_id
            order by received_at desc, source_file_sha256 desc, source_line desc
        ) as version_rank
    from purchase_orders
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
    from ranked
    where version_rank = 1
)

select * from final
