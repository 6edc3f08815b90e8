-- Admission decisions (CCAP 11.10.2-11.10.3, CCAG-FCS art. 30): after checking an order, its advertiser
-- admits it, postpones the decision (ajournement), admits it with a price reduction (réfaction) or rejects
-- it. Rule (the one place it lives): decisions are never edited; a later decision on the same order
-- supersedes the earlier ones, which stay with who took them and when (is_current, superseded_at). The same
-- decision (order and time) received twice counts once, the latest received. The key writes the time in
-- UTC the same way on both engines.
with

decisions as (
    {{ keep_one_version(ref('stg_advertiser__admission_decisions'), ['purchase_order_id', 'decided_at']) }}
),

purchase_orders as (
    select * from {{ ref('int_purchase_orders_attributed') }}
),

sequenced as (
    select
        decisions.*,
        lead(decisions.decided_at) over (
            partition by decisions.purchase_order_id order by decisions.decided_at
        ) as superseded_at
    from decisions
),

final as (
    select
        {{ dbt.concat([
            "sequenced.purchase_order_id", "'|'",
            "cast(" ~ local_timestamp('sequenced.decided_at', 'UTC') ~ " as " ~ dbt.type_string() ~ ")"
        ]) }} as decision_key,
        sequenced.purchase_order_id,
        purchase_orders.campaign_id,
        purchase_orders.advertiser_id,
        sequenced.decision,
        cast(sequenced.refaction_eur as decimal(18, 2)) as refaction_eur,
        sequenced.reason,
        sequenced.decided_by,
        sequenced.decided_at,
        -- the day in France, where the advertiser decided
        cast({{ local_timestamp('sequenced.decided_at', 'Europe/Paris') }} as date) as decided_date,
        sequenced.superseded_at,
        sequenced.superseded_at is null as is_current,
        sequenced.source_file_sha256,
        sequenced.source_line
    from sequenced
    -- left: a decision on an order the agency's exports do not know keeps its row (its relationship test
    -- names it)
    left join purchase_orders
        on sequenced.purchase_order_id = purchase_orders.purchase_order_id
)

select * from final
