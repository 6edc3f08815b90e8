-- Deferred rebates (CCAP 12.4.4, 6.2): per advertiser x régie x service year (the year its order lines
-- end), the net media invoiced (duplicates and credit notes left out), the rate of the highest tier of
-- the régie's terms that volume reaches, the rebate expected, and the credit notes received on those
-- order lines. Short by more than rebate_tolerance_eur: a missing rebate.
with

order_lines as (
    select * from {{ ref('fct_order_line_delivery') }}
),

terms as (
    select * from {{ ref('seller_rebate_terms') }}
),

annual as (
    select
        advertiser_id,
        media_seller_id,
        cast(extract(year from end_date) as integer) as service_year,
        cast(sum(invoiced_net_ht_eur) as decimal(18, 2)) as invoiced_net_ht_eur,
        cast(sum(credited_net_ht_eur) as decimal(18, 2)) as received_rebate_eur,
        min(source_file_sha256) as source_file_sha256
    from order_lines
    where invoice_count > 0 or credited_net_ht_eur > 0
    group by advertiser_id, media_seller_id, cast(extract(year from end_date) as integer)
),

tiers as (
    select
        annual.advertiser_id,
        annual.media_seller_id,
        annual.service_year,
        terms.min_annual_net_eur,
        terms.rebate_pct,
        row_number() over (
            partition by annual.advertiser_id, annual.media_seller_id, annual.service_year
            order by terms.min_annual_net_eur desc
        ) as tier_rank
    from annual
    inner join terms
        on
            annual.media_seller_id = terms.media_seller_id
            and annual.invoiced_net_ht_eur >= terms.min_annual_net_eur
),

expected as (
    select
        annual.*,
        tiers.min_annual_net_eur as tier_min_annual_net_eur,
        coalesce(tiers.rebate_pct, 0) as rebate_pct,
        {{ to_decimal(divide('annual.invoiced_net_ht_eur * coalesce(tiers.rebate_pct, 0)', 100), 18, 2) }}
            as expected_rebate_eur
    from annual
    left join tiers
        on
            annual.advertiser_id = tiers.advertiser_id
            and annual.media_seller_id = tiers.media_seller_id
            and annual.service_year = tiers.service_year
            and tiers.tier_rank = 1
),

final as (
    select
        {{ dbt.concat([
            "advertiser_id", "'|'", "media_seller_id", "'|'",
            "cast(service_year as " ~ dbt.type_string() ~ ")"
        ]) }} as rebate_key,
        advertiser_id,
        media_seller_id,
        service_year,
        invoiced_net_ht_eur,
        tier_min_annual_net_eur,
        cast(rebate_pct as decimal(9, 4)) as rebate_pct,
        expected_rebate_eur,
        received_rebate_eur,
        cast(expected_rebate_eur - received_rebate_eur as decimal(18, 2)) as missing_rebate_eur,
        expected_rebate_eur - received_rebate_eur > {{ var('rebate_tolerance_eur') }} as is_missing,
        source_file_sha256
    from expected
)

select * from final
