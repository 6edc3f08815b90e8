{#-
    The result columns a delivery report may carry (schemas/_columns.py, ResultColumns), as staging reads
    them from CM360's reports and the régies' bilans alike (null: the report does not carry them): the
    total is click-through + view-through when only the two are sent.
-#}
{% macro staged_result_columns() -%}
    coalesce(total_conversions, click_through_conversions + view_through_conversions) as total_conversions,
    click_through_conversions,
    view_through_conversions,
    coalesce(total_revenue_eur, click_through_revenue_eur + view_through_revenue_eur) as total_revenue_eur,
    click_through_revenue_eur,
    view_through_revenue_eur,
    video_plays,
    video_completions
{%- endmacro %}

{#-
    What an order line's attribution model counts of a report row (the one place the rule lives):
    under last_click the click-through part only, under post_impression (or no model stated) the total,
    click-through and view-through. `kind` is 'conversions' or 'revenue_eur'; `row` qualifies the columns.
-#}
{% macro counted_by_attribution_model(attribution_model, row, kind) -%}
    case
        when {{ attribution_model }} = 'last_click' then {{ row }}.click_through_{{ kind }}
        else {{ row }}.total_{{ kind }}
    end
{%- endmacro %}
