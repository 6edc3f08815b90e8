-- A history fetched again repeats its events: one row per status event, from the first answer that
-- showed it (an event never changes; its evidence should not either).
with

latest as (
    {{ keep_one_version(
        ref('stg_chorus_pro__status_events'),
        ['status_event_id'],
        order_by='received_at, source_file_sha256, source_line'
    ) }}
),

final as (
    select
        status_event_id,
        invoice_id,
        status_code,
        status_comment,
        status_at,
        status_date,
        source_file_sha256,
        source_line
    from latest
)

select * from final
