{#-
    Rows of `relation` keeping, per key, only the version from the latest received file (then the
    later line): a purchase order re-exported, a report re-sent for the same day, replaces the earlier.
    Expects the lineage columns received_at, source_file_sha256 and source_line. `newest_first` names a
    column that decides before the reception time (e.g. the time of an invoice's current status).
-#}
{% macro latest_received(relation, key_columns, newest_first=none) %}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by
                    {% if newest_first %}{{ newest_first }} desc, {% endif %}
                    received_at desc, source_file_sha256 desc, source_line desc
            ) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{% endmacro %}
