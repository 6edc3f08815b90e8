{#-
    The performance indicators (domain brief, "Performance indicators"), defined once, from summed
    columns named as in int_ad_server_results_attributed (`prefix` qualifies them, e.g. 'totals.').
    Every ratio is null when its base is zero or unmeasured (no division by zero):
      ctr = clicks / impressions; cpm = cost x 1000 / impressions; cpc = cost / clicks;
      cpa = cost of the rows that measured conversions / attributed conversions;
      conversion rate = attributed conversions / the clicks of those rows;
      roas = attributed revenue / the cost of the rows that measured revenue;
      viewability = viewable / measurable impressions; video completion rate = completions / plays.
-#}
{% macro kpi_ratios(prefix='') -%}
    {{ to_decimal(divide(prefix ~ 'clicks', prefix ~ 'impressions'), 12, 6) }} as ctr,
    {{ to_decimal(divide(prefix ~ 'cost_eur * 1000', prefix ~ 'impressions'), 18, 4) }} as cpm_eur,
    {{ to_decimal(divide(prefix ~ 'cost_eur', prefix ~ 'clicks'), 18, 4) }} as cpc_eur,
    {{ to_decimal(divide(prefix ~ 'conversions_measured_cost_eur', prefix ~ 'conversions'), 18, 4) }} as cpa_eur,
    {{ to_decimal(divide(prefix ~ 'conversions', prefix ~ 'conversions_measured_clicks'), 12, 6) }}
        as conversion_rate,
    {{ to_decimal(divide(prefix ~ 'revenue_eur', prefix ~ 'revenue_measured_cost_eur'), 18, 4) }} as roas,
    {{ to_decimal(divide(prefix ~ 'viewable_impressions', prefix ~ 'measurable_impressions'), 12, 6) }}
        as viewability_rate,
    {{ to_decimal(divide(prefix ~ 'video_completions', prefix ~ 'video_plays'), 12, 6) }} as video_completion_rate
{%- endmacro %}

{#- The summed bases of those ratios, for a roll-up of rows that carry them (a GROUP BY's select list). -#}
{% macro kpi_sums(prefix='') -%}
    {%- for column, type in [
        ('impressions', 'bigint'), ('clicks', 'bigint'), ('measurable_impressions', 'bigint'),
        ('viewable_impressions', 'bigint'), ('cost_eur', 'decimal(18, 2)'), ('click_through_conversions', 'bigint'),
        ('view_through_conversions', 'bigint'), ('conversions', 'bigint'),
        ('conversions_measured_cost_eur', 'decimal(18, 2)'), ('conversions_measured_clicks', 'bigint'),
        ('revenue_eur', 'decimal(18, 2)'), ('revenue_measured_cost_eur', 'decimal(18, 2)'),
        ('video_plays', 'bigint'), ('video_completions', 'bigint'),
    ] %}
    cast(sum({{ prefix ~ column }}) as {{ type }}) as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Which source measured `column` in a roll-up of int_order_line_results_sourced rows: ad_server, regie,
    mixed when both did (for different lines), null when neither. -#}
{% macro results_source_of(column) -%}
    case
        when count(distinct case when {{ column }} is not null then results_source end) > 1 then 'mixed'
        else max(case when {{ column }} is not null then results_source end)
    end
{%- endmacro %}
