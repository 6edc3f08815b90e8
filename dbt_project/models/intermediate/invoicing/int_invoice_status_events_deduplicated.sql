-- A history fetched again repeats its events: one row per status event.
with

latest as (
    {{ latest_received(ref('stg_chorus_pro__status_events'), ['status_event_id']) }}
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
