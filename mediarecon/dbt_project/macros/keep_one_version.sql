{#-
    Rows of `relation` keeping one version per key, the first in `order_by`. By default the version
    from the latest received file (then the later line) wins: a purchase order re-exported, a report
    re-sent for the same day, replaces the earlier one. Expects the lineage columns received_at,
    source_file_sha256 and source_line.

    `repeats_only`: rank only the keys seen more than once and pass the others through. The same rows,
    much faster on a big relation where almost no key repeats (a year of ad-server rows: ranking all of
    them was the build's heaviest step, 45 of its 75 s at scale 10). The key columns must never be null
    (the door refuses such rows), and `relation` must be a relation or a parenthesised select, not a
    CTE: it is read three times, each read keeping only the columns used (a CTE read twice would be
    materialised whole).
-#}
{% macro keep_one_version(
    relation,
    key_columns,
    order_by='received_at desc, source_file_sha256 desc, source_line desc',
    repeats_only=false
) %}
    {%- if repeats_only %}
    {%- set on_key %}{% for k in key_columns %}{{ k }} = repeated.repeated_{{ loop.index }}{{ " and " if not loop.last }}{% endfor %}{% endset %}
    select *
    from (
        with

        repeated as (
            select
                {% for k in key_columns %}{{ k }} as repeated_{{ loop.index }}{{ ", " if not loop.last }}{% endfor %}
            from {{ relation }}
            group by {{ key_columns | join(', ') }}
            having count(*) > 1
        )

        select
            once.*,
            1 as version_rank
        from {{ relation }} as once
        left join repeated
            on {{ on_key }}
        where repeated.repeated_1 is null
        union all
        select *
        from (
            select
                again.*,
                row_number() over (
                    partition by {{ key_columns | join(', ') }}
                    order by {{ order_by }}
                ) as version_rank
            from {{ relation }} as again
            inner join repeated
                on {{ on_key }}
        ) as ranked
        where version_rank = 1
    ) as versions
    {%- else %}
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
    {%- endif %}
{% endmacro %}
