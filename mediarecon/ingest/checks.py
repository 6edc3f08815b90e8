"""The door's checks: a schema's declared column checks and row rules as DuckDB expressions.

The pandera models in `schemas/` declare each column (its kind, checks and nullability) and each row
rule; this module turns one into a single SQL query over a file's cells, so that a whole file is cleaned,
typed, checked and split into valid and quarantined rows in one columnar pass, with no Python per row.
Rule names are pandera's own (`str_matches('^\\d+$')`, `coerce_dtype('Int64')`, …), as the quarantine
has always shown them.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas._columns import column_kinds

# the spaces a French amount may hold as thousands separators (what Python's str.isspace() accepts)
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
INT_RE = "[+-]?[0-9]+"
SQL_TYPES = {"text": "varchar", "int": "bigint", "money": "decimal(18,2)", "rate": "decimal(9,4)",
             "date_fr": "date", "date_iso": "date", "timestamp_iso": "timestamptz", "timestamp_paris": "timestamptz"}
DATE_FORMATS = {"date_fr": "%d/%m/%Y", "date_iso": "%Y-%m-%d", "timestamp_paris": "%Y-%m-%d %H:%M"}
COMPARISONS = {"greater_than": ">", "greater_than_or_equal_to": ">=", "less_than": "<", "less_than_or_equal_to": "<="}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Failure:
    """One rule a row can break: `condition` is true when it does (SQL over cleaned text `v__<col>`
    and typed values `<col>`)."""

    column: str | None
    rule: str
    condition: str
    value: str | None  # the column whose cleaned text the quarantine shows


def clean(cell: str, kind: str, french_numbers: bool) -> str:
    """French amounts without their spaces and with a decimal point (cells come trimmed, empty as NULL)."""
    v = cell
    if french_numbers and kind in ("money", "rate"):
        spaces = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
        v = f"replace(regexp_replace({v}, '{spaces}', '', 'g'), ',', '.')"
    return v


def typed(v: str, kind: str) -> str:
    """The value in its real type; NULL where the text is not one (its own rule says so)."""
    if kind == "int":
        return f"case when regexp_full_match({v}, '{INT_RE}') then try_cast({v} as bigint) end"
    if kind in ("money", "rate"):
        return f"try_cast({v} as {SQL_TYPES[kind]})"
    if kind in ("date_fr", "date_iso"):
        return f"cast(try_strptime({v}, '{DATE_FORMATS[kind]}') as date)"
    if kind == "timestamp_iso":  # DuckDB wants the seconds: 08:30Z -> 08:30:00Z
        return ("try_cast(regexp_replace(" + v + r", '^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(Z|[+-])', '\1:00\2')"
                " as timestamptz)")
    if kind == "timestamp_paris":
        # French local time to UTC; the hour repeated when clocks go back is read as winter time, and a
        # time that does not exist (clocks going forward) as the first one after it, as pandas did
        local = f"try_strptime({v}, '{DATE_FORMATS[kind]}')"
        at = f"timezone('Europe/Paris', {local})"
        return (f"case when timezone('Europe/Paris', {at}) = {local} then {at}"
                f" else timezone('Europe/Paris', date_trunc('hour', {local}) + interval 1 hour) end")
    return v


def _siret_key(v: str) -> str:
    """INSEE's key: Luhn, or for La Poste's establishments (SIREN 356000000, head office aside) a digit
    sum that is a multiple of 5."""
    digit = f"try_cast(substr({v}, length({v}) - i, 1) as integer)"
    luhn = (f"list_sum(list_transform(range(length({v})), i -> case when i % 2 = 1 then "
            f"{digit} * 2 - case when {digit} * 2 > 9 then 9 else 0 end else {digit} end)) % 10 = 0")
    digit_sum = f"list_sum(list_transform(range(length({v})), i -> {digit})) % 5 = 0"
    la_poste = f"(starts_with({v}, '356000000') and {v} <> '35600000000048')"
    return (f"case when not regexp_full_match({v}, '[0-9]+') then false"
            f" when {la_poste} then {digit_sum} else {luhn} end")


def unique_keys(model) -> str | None:
    """The model's key columns as partition terms: the typed value, or the text when it has none (typed
    keys partition faster than their text)."""
    unique = model.to_schema().unique or []
    return ", ".join(f"{quote(k)}, case when {quote(k)} is null then {quote('v__' + k)} end" for k in unique) or None


def failures(model) -> list[Failure]:
    """Every rule of the model, in the order pandera would report them: per column, then row rules."""
    schema = model.to_schema()
    kinds = column_kinds(model)
    out: list[Failure] = []
    for name, column in schema.columns.items():
        kind, v, t = kinds[name], quote("v__" + name), quote(name)
        shown = "v__" + name
        if not column.nullable:
            out.append(Failure(name, "not_nullable", f"{v} is null", None))
        if kind == "int":
            out.append(Failure(name, "coerce_dtype('Int64')", f"{v} is not null and {t} is null", shown))
        for check in column.checks:
            stats = check.statistics or {}
            if check.name == "str_matches":
                cond = f"{v} is not null and not regexp_matches({v}, {literal(stats['pattern'])})"
            elif check.name == "isin":
                values = ", ".join(literal(x) for x in stats["allowed_values"])
                cond = f"{t if kind == 'int' else v} not in ({values})"
            elif check.name in COMPARISONS:
                if kind != "int":
                    raise ValueError(f"{model.__name__}.{name}: {check.name} on a {kind} column")
                bound = stats.get("min_value", stats.get("max_value"))
                cond = f"not ({t} {COMPARISONS[check.name]} {literal(bound)})"
            else:
                raise ValueError(f"{model.__name__}.{name}: the door has no SQL for check {check.name!r}")
            out.append(Failure(name, check.error, cond, shown))
        if kind in DATE_FORMATS:
            out.append(Failure(name, f"real_calendar_date(fmt={DATE_FORMATS[kind]})",
                               f"{v} is not null and {t} is null", shown))
        elif kind == "timestamp_iso":
            out.append(Failure(name, "real_calendar_date(fmt=ISO 8601)", f"{v} is not null and {t} is null", shown))
        for rule in (column.metadata or {}).get("rules", ()):
            if rule != "siret_key":
                raise ValueError(f"{model.__name__}.{name}: the door has no SQL for rule {rule!r}")
            out.append(Failure(name, "siret_key", f"{v} is not null and not {_siret_key(v)}", shown))
    key = schema.unique or []
    if key:
        out.append(Failure(key[0] if len(key) == 1 else None, "multiple_fields_uniqueness",
                           f"count(*) over (partition by _group, {unique_keys(model)}) > 1",  # within one file
                           "v__" + key[0] if len(key) == 1 else None))
    for rule, condition in ((model.__config__.metadata or {}).get("row_rules") or {}).items():
        out.append(Failure(None, rule, f"not coalesce({condition}, true)", None))
    return out


def _typed(model, french_numbers: bool) -> str:
    """The CTEs `cleaned`, `kept` (blank rows dropped) and `typed` over `raw`."""
    kinds = column_kinds(model)
    cleaned = ", ".join(f"{clean(quote(n), k, french_numbers)} as {quote('v__' + n)}" for n, k in kinds.items())
    blank = " and ".join(f"{quote('v__' + n)} is null" for n in kinds)
    typed_cols = ", ".join(f"{typed(quote('v__' + n), k)} as {quote(n)}" for n, k in kinds.items())
    return (f"with cleaned as (select _row, _line, _group, {cleaned} from raw), "
            f"kept as (select * from cleaned where not ({blank})), "
            f"typed as (select *, {typed_cols} from kept)")


def door_query(model, french_numbers: bool) -> str:
    """The query over `raw` (the model's columns as trimmed text, an empty cell NULL; `_row`, its position;
    `_line`, `_group`): one row per non-blank row with its typed columns but the text ones (those are `raw`'s
    own cells: the caller takes them from there rather than have DuckDB copy them back out), `_row`, `_line`,
    `_group`, `_bad`, and for a bad row only `_failures` (the rules it breaks: column, rule, value) and
    `_cells` (its cleaned text as JSON), in the order of `raw`."""
    kinds = column_kinds(model)
    typed_out = [n for n, k in kinds.items() if k != "text"]
    rules = failures(model)
    flags = ", ".join(f"coalesce({f.condition}, false) as _f{i}" for i, f in enumerate(rules))
    bad = " or ".join(f"_f{i}" for i in range(len(rules))) or "false"
    broken = ", ".join(
        f"case when _f{i} then {{'column_name': {literal(f.column) if f.column else 'null'}::varchar,"
        f" 'rule': {literal(f.rule)}::varchar, 'value': {quote(f.value) if f.value else 'null::varchar'}}} end"
        for i, f in enumerate(rules))
    cells = ", ".join(f"{literal(n)}: {quote('v__' + n)}" for n in kinds)
    # a window does not keep the rows' order: sort them back by `_row`, the order the caller relies on (a
    # scan, filter and projection keep it)
    order = " order by _row" if any(f.rule == "multiple_fields_uniqueness" for f in rules) else ""
    return (f"{_typed(model, french_numbers)}, "
            f"flagged as (select *, {flags} from typed), "
            f"judged as (select *, {bad} as _bad from flagged) "
            f"select {''.join(quote(n) + ', ' for n in typed_out)}_row, _line, _group, _bad,"
            f" case when _bad then list_filter([{broken}], x -> x is not null) end as _failures,"
            f" case when _bad then to_json({{{cells}}}) end as _cells from judged{order}")
