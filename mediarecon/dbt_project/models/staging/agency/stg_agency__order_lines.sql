with

source as (
    select * from {{ source('agency', 'order_lines') }}
),

renamed as (
    select
        -- ids: the agency numbers lines within a purchase order; the line id is "<BDC>-<nnn>"
        {{ dbt.concat([
            "purchase_order_id",
            "'-'",
            "lpad(cast(line_number as " ~ dbt.type_string() ~ "), 3, '0')",
        ]) }} as order_line_id,
        purchase_order_id,
        line_number,
        media_seller_siret,
        uo_code,
        -- text
        media_seller_name,
        media_type,
        buying_unit,
        pricing_basis,
        -- quantities and money
        ordered_quantity,
        unit_gross_price_eur,
        gross_ht_eur,
        volume_discount_eur,
        public_interest_discount_eur,
        professional_discount_eur,
        cumul_mandats_discount_eur,
        net_ht_eur,
        vat_eur,
        net_ttc_eur,
        fee_rate_pct,
        -- objectives (the order's expected performance; null: none stated)
        target_volume,
        target_cpm_eur,
        target_cpc_eur,
        target_cpa_eur,
        target_ctr_pct,
        target_completion_rate_pct,
        case attribution_model
            when 'dernier_clic' then 'last_click'
            when 'post_impression' then 'post_impression'
        end as attribution_model,
        attribution_window_days,
        -- dates
        start_date,
        end_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
