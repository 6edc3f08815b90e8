{#- Location of one source's validated Parquet files (written by the ingestion step). -#}
{% macro validated_path(source_name) -%}
    {{ env_var('MEDIARECON_VALIDATED_DIR') }}/{{ source_name }}/*.parquet
{%- endmacro %}
