{#-
    Rows of `relation` keeping one version per key, the first in `order_by`. By default the version
    from the latest received file (then the later line) wins: a purchase order re-exported, a report
    re-sent for the same day, replaces the earlier one. Expects the lineage columns received_at,
    source_file_sha256 and source_line.
-#}
{% macro keep_one_version(
    relation,
    key_columns,
    order_by='received_at desc, source_file_sha256 desc, source_line desc'
) %}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by }}
            ) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{% endmacro %}
