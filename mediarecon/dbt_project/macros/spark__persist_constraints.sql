{#-
    A contract's NOT NULL on Spark. Plain Parquet tables take no `ALTER ... SET NOT NULL`, so dbt-spark
    skips every constraint unless the table is Delta; here the not_null columns are checked once the
    table is written, and the model fails as on DuckDB, naming the column. Delta keeps dbt-spark's way.
-#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if not config.get('contract').enforced -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if config.get('file_format', 'delta') == 'delta' -%}
        {% do alter_table_add_constraints(relation, model.constraints) %}
        {% do alter_column_set_constraints(relation, model.columns) %}
        {{ return(none) }}
    {%- endif -%}
    {%- set not_null = [] -%}
    {%- for name, column in model.columns.items() -%}
        {%- if column.constraints | selectattr('type', 'equalto', 'not_null') | list -%}
            {%- do not_null.append(adapter.quote(name) if column.quote else name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not not_null -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set counts -%}
        select {% for c in not_null %}sum(case when {{ c }} is null then 1 else 0 end){{ ", " if not loop.last }}{% endfor %}
        from {{ relation }}
    {%- endset -%}
    {%- set found = run_query(counts).rows[0] -%}
    {%- for c in not_null -%}
        {%- if found[loop.index0] -%}
            {{ exceptions.raise_compiler_error("NOT NULL constraint failed: " ~ relation ~ "." ~ c ~ " has "
                ~ found[loop.index0] ~ " null value(s) (contract of " ~ model.name ~ ")") }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
