{#- What the campaign report's marts total for a group of ad-server rows (int_ad_server_deliveries_deduplicated):
    first and last day, impressions, clicks and media cost. -#}
{% macro delivery_totals() -%}
    min(delivery_date) as first_date,
    max(delivery_date) as last_date,
    cast(sum(impressions) as bigint) as impressions,
    cast(sum(clicks) as bigint) as clicks,
    cast(sum(media_cost_eur) as decimal(18, 2)) as cost_eur
{%- endmacro %}
