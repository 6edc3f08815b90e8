{#- Rows for which `expression` is false fail the test (our own, as hub packages are out of reach). -#}
{% test expression_is_true(model, expression, column_name=none, where_clause=none) %}
select *
from {{ model }}
where not ({{ expression }})
{% if where_clause %} and ({{ where_clause }}) {% endif %}
{% endtest %}
