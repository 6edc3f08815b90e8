-- Finding objective_missed. Rule: an order line's stated objective (the order's expected performance,
-- decree 2017-159 campaign reports: results per agreed indicator) missed once the line has ended, as
-- judged in fct_campaign_objectives. A volume objective of a line that is already an under_delivery
-- finding is not raised again (the same missing units, the same euros).
-- Grain: one row per ended order line x indicator missed; entity_key = order_line_id|indicator; dates =
-- the line's flight; amount = the deviation in euros (what the shortfall is worth: cost paid above the
-- objective's price, the missing units at the net unit price, or the share of the cost the missing clicks
-- or completions stand for); advertiser and seller = the line's; evidence = the order-lines export row
-- that states the objective.
with

objectives as (
    select * from {{ ref('fct_campaign_objectives') }}
),

final as (
    select
        'objective_missed' as finding_type,
        objective_key as entity_key,
        campaign_id,
        advertiser_id,
        media_seller_id,
        start_date as first_date,
        end_date as last_date,
        cast(deviation_eur as decimal(18, 2)) as amount_at_stake_eur,
        'agency' as evidence_source,
        source_file_sha256 as evidence_file_sha256,
        source_line as evidence_line,
        cast(null as {{ dbt.type_string() }}) as evidence_document_name
    from objectives
    where
        status = 'missed'
        and delivery_status in ('delivered', 'under_delivered')
        and not (indicator = 'volume_min' and delivery_status = 'under_delivered')
)

select * from final
