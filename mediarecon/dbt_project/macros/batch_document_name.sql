{#-
    The name of an e-invoice document when it sits inside a batch (a ZIP, as Chorus Pro downloads come):
    `<batch>.zip!<member>`, the form mediarecon/ingest/einvoices.py gives it; null for a file that is one
    document (its sha256 and the manifest already name it, and the name it was sent under differs by
    sender path, local or S3).
-#}
{% macro batch_document_name(document_name) -%}
    case when {{ document_name }} like '%!%' then {{ document_name }} end
{%- endmacro %}
