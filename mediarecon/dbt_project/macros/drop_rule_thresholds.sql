{#- The per-channel drop thresholds of the alert rules file (var drop_rules) as rows, to join on. -#}
{% macro drop_rule_thresholds() %}
    {%- for channel, rule in var('drop_rules').items() %}
    select
        '{{ channel }}' as channel,
        {{ rule['share_pct'] }} as share_pct,
        {{ rule['min_baseline'] }} as min_baseline,
        {{ rule['min_days'] }} as min_days
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}
