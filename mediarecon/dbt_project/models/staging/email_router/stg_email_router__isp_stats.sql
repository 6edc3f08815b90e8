with

source as (
    select * from {{ source('email_router', 'email_deliverability') }}
),

renamed as (
    select
        -- ids
        router_campaign_id,
        order_line_ref,
        lower(isp_domain) as isp_domain,
        -- counts
        attempted_count,
        delivered_count,
        soft_bounced_count,
        hard_bounced_count,
        blocked_count,
        spam_report_count,
        opened_count,
        clicked_count,
        -- dates
        send_date,
        -- lineage
        _source_file_sha256 as source_file_sha256,
        _source_line as source_line,
        _received_at as received_at
    from source
)

select * from renamed
