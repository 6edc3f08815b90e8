{#-
    Division and rounding that give the same result on every engine (docs/scale_out.md).

    Engines divide differently: DuckDB returns a DOUBLE for decimal / decimal and infinity for x / 0;
    Spark returns a DECIMAL capped at scale 6 and NULL for x / 0. `divide` is IEEE double division on
    both, NULL when the denominator is zero.
-#}
{% macro divide(numerator, denominator) -%}
    (
        cast({{ numerator }} as double)
        / nullif(cast({{ denominator }} as double), 0)
    )
{%- endmacro %}

{#-
    The one rounding rule for a computed amount or rate stored as a decimal: half away from zero at
    `scale` decimals, computed on the double (round() of the scaled value, which both engines round
    half away from zero), so that a cast cannot round differently (Spark rounds the shortest decimal
    form of the double, DuckDB its binary value: 1.005 gave 1.01 on one and 1.00 on the other).
-#}
{% macro to_decimal(expression, precision, scale) -%}
    cast(
        round(cast({{ expression }} as double) * {{ 10 ** scale }}) / {{ 10 ** scale }}
        as decimal({{ precision }}, {{ scale }})
    )
{%- endmacro %}

{#- A UTC instant as the wall-clock time of `zone` (a timestamp without time zone). -#}
{% macro local_timestamp(expression, zone) -%}
    {{ return(adapter.dispatch('local_timestamp')(expression, zone)) }}
{%- endmacro %}

{% macro default__local_timestamp(expression, zone) -%}
    ({{ expression }} at time zone '{{ zone }}')
{%- endmacro %}

{% macro spark__local_timestamp(expression, zone) -%}
    from_utc_timestamp({{ expression }}, '{{ zone }}')
{%- endmacro %}
