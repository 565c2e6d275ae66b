"""Split a batch of records into clean rows and quarantined rows.

File sources hand DuckDB an Arrow table of text columns and get back two Arrow tables: the clean
rows with their declared types (timestamps converted to UTC) and the rejected rows shaped like
`QUARANTINE_SCHEMA`. API sources check each page the same way (`reject_reasons`), so both kinds
of source give the same verdict on the same value.
"""

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from loaders.contracts import RecordContract
from loaders.quarantine import QUARANTINE_SCHEMA

DECIMAL_TYPE = "decimal(18, 2)"
SOURCE_FILE_COLUMN = "_source_file"

_engine: duckdb.DuckDBPyConnection | None = None


def _cursor() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB cursor; the database behind it is opened once per process.

    Opening DuckDB costs more than checking a small file, so files share one database and
    each check works in its own cursor (its own temp tables).
    """
    global _engine
    if _engine is None:
        _engine = duckdb.connect()
    return _engine.cursor()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _json_path(field: str) -> str:
    """A DuckDB JSON path literal selecting top-level `field`, whatever characters it holds."""
    escaped = field.replace("\\", "\\\\").replace('"', '\\"')
    return _literal(f'$."{escaped}"')


def quote_identifier(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return _quote(name)


# Exact-fit rules of the typed columns: a value lands only when its type holds it unchanged, so
# nothing is rounded (5.7 -> 6, 9.999 -> 10.00), read in another base ('0x10', '1_000') or turned
# into a non-number (NaN, inf). Each rule is a regular expression over the value's text (which
# may have whitespace around it), plus a cast that rejects what the pattern cannot (the range of a
# bigint, February 30th). Files and API pages are both checked by `_reject_cases`, so the rules
# live here once; docs/source_systems.md lists them.
SPACE_CHARACTERS = " \t\n\f\r"
"""The whitespace around a value, and all of a blank one (what `BLANK_TEXT_PATTERN` matches)."""
_SPACE = r"[ \t\n\f\r]"
BLANK_TEXT_PATTERN = f"^{_SPACE}*$"
"""Text that counts as no value (RE2, for Arrow's `match_substring_regex`)."""
_INTEGER = r"[+-]?[0-9]+"
_DECIMAL = r"[+-]?[0-9]{1,16}(\.[0-9]{1,2})?"  # decimal(18, 2): 16 digits before the point
_FLOAT = r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# ISO 8601 extended format with a time of day (seconds and up to microseconds optional) and an
# optional offset; without one the time is UTC. The basic format (20250101T000000Z) and a date
# alone are not timestamps.
_TIMESTAMP = (
    _DATE + r"[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?"
)
# what a column's text must be (pattern) and become (type); checked in this order
_TYPED_CHECKS = (
    ("timestamps", "timestamptz", _TIMESTAMP, "unparsable_timestamp"),
    ("dates", "date", _DATE, "unparsable_date"),
    ("integers", "bigint", _INTEGER, "unparsable_number"),
    ("decimals", DECIMAL_TYPE, _DECIMAL, "unparsable_number"),
    ("floats", "double", _FLOAT, "unparsable_number"),
)


def _is_blank(column: str) -> str:
    """SQL true when `column` is null or only whitespace."""
    quoted = _quote(column)
    return f"({quoted} is null or regexp_full_match({quoted}::varchar, {_literal(_SPACE + '*')}))"


def _fits(column: str, sql_type: str, pattern: str) -> str:
    """SQL true when the text of `column` (not blank) is exactly a value of `sql_type`.

    The casts skip the whitespace the pattern allows around the value; a trim() first would be
    several times slower on a web file's million rows.
    """
    quoted = _quote(column)
    padded = f"{_SPACE}*{pattern}{_SPACE}*"
    fits = f"regexp_full_match({quoted}::varchar, {_literal(padded)})"
    if sql_type == "double":
        # 1e400 matches the pattern but is no finite double
        return f"({fits} and isfinite(try_cast({quoted} as double)))"
    if sql_type == DECIMAL_TYPE:
        return fits
    return f"({fits} and try_cast({quoted} as {sql_type}) is not null)"


def _column_types(contract: RecordContract) -> dict[str, tuple[str, str, str]]:
    """Typed column -> (SQL type, exact-fit pattern, quarantine reason prefix)."""
    types: dict[str, tuple[str, str, str]] = {}
    for field_name, sql_type, pattern, reason in _TYPED_CHECKS:
        for column in getattr(contract, field_name):
            types.setdefault(column, (sql_type, pattern, reason))
    return types


def _reject_cases(contract: RecordContract) -> list[tuple[str, str]]:
    """(condition that is true for a bad value, reason) pairs in the order they are checked."""
    cases = [(_is_blank(c), f"null_required_field:{c}") for c in contract.required]
    for c, (sql_type, pattern, reason) in _column_types(contract).items():
        condition = f"not {_is_blank(c)} and not {_fits(c, sql_type, pattern)}"
        cases.append((condition, f"{reason}:{c}"))
    return cases


def _first_reason(cases: Sequence[tuple[str, str]]) -> str:
    """SQL for the reason of the first (condition, reason) pair whose condition holds, or null."""
    if not cases:
        return "null::varchar"
    return "case " + " ".join(f"when {c} then {_literal(r)}" for c, r in cases) + " end"


def _quarantine_id_sql(source_table: str, row_location: str) -> str:
    """SQL of a quarantined row's id, as `loaders.quarantine.quarantine_id` makes it from the
    table, the reason (`_reject_reason`) and the row's location."""
    return f"md5({_literal(source_table + '|')} || _reject_reason || '|' || ({row_location}))"


def _is_json_object(column: str) -> str:
    """SQL true when `column` holds a JSON object, false for other JSON and for invalid text.

    Valid JSON that starts with `{` is an object, so the usual line is parsed once here; only
    the others are asked for their type (DuckDB evaluates both sides of `and`, so only valid JSON
    may reach json_type).
    """
    quoted = _quote(column)
    return (
        f"case when starts_with({quoted}, '{{') then json_valid({quoted}) "
        f"else coalesce(json_type(case when json_valid({quoted}) then {quoted} end) = 'OBJECT', "
        "false) end"
    )


def split_json_lines(
    lines: pa.Table,
    *,
    source_table: str,
    contract: RecordContract,
    fields: Sequence[str],
    primary_key: Sequence[str] = (),
) -> tuple[pa.Table, pa.Table]:
    """Return (clean rows, quarantined rows) of a batch of JSON lines, as `split_records` would.

    `lines` holds the text in `line` with `_source_file` and `_source_line`, sorted by file and
    line; both results keep that order. A line that is not a JSON object is quarantined as
    `invalid_json`, the others are checked against `contract` (whose columns must be among
    `fields`) and quarantined with the line as their payload. The clean rows hold one column per
    field in `fields` (typed as the contract says, else text), then one text column per other
    top-level key any object of the batch holds (sorted; nested values as JSON text), then
    `_source_file` and `_source_line`.

    Each line is parsed for its fields, its keys and the checks in one query: a pass for the
    keys and another for the fields, each validating every line again, and a temp table of
    the checked rows read twice, were most of a web load's time. Only the lines holding an
    undocumented key are parsed a second time, for its value.
    """
    expected = set(contract.required) | set(_column_types(contract))
    if not expected <= set(fields):
        raise ValueError(f"the contract's columns {sorted(expected - set(fields))} are no fields")
    paths = ", ".join(_json_path(field) for field in fields)
    known = ", ".join(_literal(field) for field in fields)
    values = ", ".join(
        f"_values[{index}] as {_quote(field)}" for index, field in enumerate(fields, start=1)
    )
    reason = (
        "coalesce(case when not _is_object then 'invalid_json' end, "
        f"{_first_reason(_reject_cases(contract))})"
    )
    typed = []
    for field in fields:
        if field in _column_types(contract):
            # only clean rows are typed: their values fit exactly, so the cast never rounds
            sql_type = _column_types(contract)[field][0]
            quoted = _quote(field)
            typed.append(
                f"case when _reject_reason is null and not {_is_blank(field)} "
                f"then try_cast({quoted} as {sql_type}) end as {quoted}"
            )
        else:
            typed.append(_quote(field))
    row_location = "_source_file || ':' || _source_line"
    rejected = "_reject_reason is not null"
    con = _cursor()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("json_lines", lines)
        checked = con.sql(
            f"""
            select
                {", ".join(typed)},
                _source_file,
                _source_line,
                _reject_reason as reason,
                case when {rejected} then {_quarantine_id_sql(source_table, row_location)} end
                    as quarantine_id,
                case when {rejected} then {_literal(source_table)} end as source_table,
                case when {rejected} then {row_location} end as source_location,
                case when {rejected} then line end as raw_payload,
                _new_keys,
                case when _reject_reason is null and _new_keys is not null then line end
                    as _new_line
            from (
                select *, {reason} as _reject_reason
                from (
                    select _source_file, _source_line, line, _is_object, _new_keys, {values}
                    from (
                        select
                            *,
                            case when _is_object then json_extract_string(line, [{paths}])
                            end as _values,
                            case when _is_object then nullif(
                                list_filter(
                                    json_keys(line), lambda k: not list_contains([{known}], k)
                                ),
                                []
                            ) end as _new_keys
                        from (select *, {_is_json_object("line")} as _is_object from json_lines)
                    )
                )
            )
            """
        ).to_arrow_table()
        # a field the export adds lands as a new text column, null where a line lacks it
        new_keys = pc.unique(pc.list_flatten(checked["_new_keys"])).to_pylist()
        new_fields = sorted(key for key in new_keys if key is not None)
        new_columns: list[pa.ChunkedArray] = []
        if new_fields:
            con.register("new_lines", checked.select(["_new_line"]))
            new_paths = ", ".join(_json_path(field) for field in new_fields)
            new_values = con.sql(
                f"select json_extract_string(_new_line, [{new_paths}]) as _values from new_lines"
            ).to_arrow_table()["_values"]
            new_columns = [pc.list_element(new_values, index) for index in range(len(new_fields))]
    finally:
        con.close()
    is_clean = pc.is_null(checked["reason"])
    source = [checked[SOURCE_FILE_COLUMN], checked["_source_line"]]
    clean = pa.table(
        [*(checked[field] for field in fields), *new_columns, *source],
        names=[*fields, *new_fields, SOURCE_FILE_COLUMN, "_source_line"],
    ).filter(is_clean)
    quarantine_schema = QUARANTINE_SCHEMA.append(pa.field(SOURCE_FILE_COLUMN, pa.string()))
    quarantined = checked.filter(pc.invert(is_clean)).select(quarantine_schema.names)
    not_null = pa.schema(
        [f.with_nullable(f.name not in primary_key) for f in clean.schema], clean.schema.metadata
    )
    return clean.cast(not_null), quarantined.cast(quarantine_schema)


def _typed_expression(column: str, contract: RecordContract) -> str:
    types = _column_types(contract)
    if column in types:
        # only values that fit exactly get here, so the cast never rounds
        sql_type = types[column][0]
        typed = f"case when not {_is_blank(column)} then cast({_quote(column)} as {sql_type}) end"
        return f"{typed} as {_quote(column)}"
    return _quote(column)


def split_records(
    table: pa.Table,
    *,
    source_table: str,
    contract: RecordContract,
    location: str | None,
    columns: Mapping[str, str] | None = None,
    prechecks: Sequence[tuple[str, str]] = (),
    payload_sql: str | None = None,
    primary_key: Sequence[str] = (),
    location_sql: str | None = None,
    source_columns: bool = True,
) -> tuple[pa.Table, pa.Table]:
    """Return (clean rows, quarantined rows) of `table`, which has a `_source_line` column.

    `columns` maps output column names to SQL expressions over `table` (default: every column of
    `table` as it is); `prechecks` are (condition, reason) pairs checked before the contract,
    `payload_sql` the raw text kept for a rejected row (default: the row's columns as JSON).
    `location` (a file's relative path) and `_source_line` become `source_location`, unless
    `location_sql` gives another expression over the output columns (a database row is located
    by its key). With `location` None, `table` holds rows of several files and names each row's
    file in its `_source_file` column: a batch of files is checked in one query, and the
    quarantined rows keep their `_source_file` too. Columns of `primary_key` are declared not
    null in the clean table, as dlt declares them. With `source_columns` the clean rows carry
    `_source_file` and `_source_line`.
    """
    per_row_file = location is None
    if columns is None:
        columns = {
            name: _quote(name)
            for name in table.column_names
            if name not in ("_source_line", SOURCE_FILE_COLUMN)
        }
    expected = set(contract.required) | set(_column_types(contract))
    # a column the contract names but the file lacks is null in every row, so it fails `required`
    # like any other null instead of breaking the query
    select_list = [f"{expr} as {_quote(name)}" for name, expr in columns.items()]
    select_list += [f"null::varchar as {_quote(c)}" for c in sorted(expected - set(columns))]
    output_columns = [*columns, *sorted(expected - set(columns))]

    default_payload = (
        "to_json(json_object("
        + ", ".join(f"{_literal(c)}, {_quote(c)}" for c in output_columns)
        + "))::varchar"
    )
    con = _cursor()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("input_rows", table)
        con.execute(
            f"""
            create temp table checked as
            with extracted as (
                select
                    _source_line,{" _source_file," if per_row_file else ""}
                    {", ".join(select_list)},
                    {_first_reason(prechecks)} as _precheck_reason,
                    {payload_sql or "null::varchar"} as _raw_payload
                from input_rows
            )
            select
                * exclude (_raw_payload),
                coalesce(_raw_payload, {default_payload}) as _raw_payload,
                coalesce(
                    _precheck_reason, {_first_reason(_reject_cases(contract))}
                ) as _reject_reason
            from extracted
            """
        )
        typed = ", ".join(_typed_expression(c, contract) for c in output_columns)
        source_file = SOURCE_FILE_COLUMN if per_row_file else f"{_literal(str(location))}"
        source = f", {source_file} as _source_file, _source_line" if source_columns else ""
        clean = con.sql(
            f"""
            select {typed}{source}
            from checked where _reject_reason is null
            order by {"_source_file, " if per_row_file else ""}_source_line
            """
        ).to_arrow_table()
        file_prefix = "_source_file || ':'" if per_row_file else _literal(f"{location}:")
        row_location = location_sql or f"{file_prefix} || _source_line"
        quarantined = con.sql(
            f"""
            select
                {_quarantine_id_sql(source_table, row_location)} as quarantine_id,
                {_literal(source_table)} as source_table,
                _reject_reason as reason,
                {row_location} as source_location,
                _raw_payload as raw_payload{", _source_file" if per_row_file else ""}
            from checked where _reject_reason is not null
            order by {"_source_file, " if per_row_file else ""}_source_line
            """
        ).to_arrow_table()
    finally:
        con.close()
    not_null = pa.schema(
        [f.with_nullable(f.name not in primary_key) for f in clean.schema], clean.schema.metadata
    )
    quarantine_schema = QUARANTINE_SCHEMA
    if per_row_file:
        quarantine_schema = quarantine_schema.append(pa.field(SOURCE_FILE_COLUMN, pa.string()))
    return clean.cast(not_null), quarantined.cast(quarantine_schema)


def _as_text(value: Any) -> str | None:
    """An API value as the text a file would hold: numbers in their JSON spelling (NaN and
    Infinity included, which the number rules then reject), nested values as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | float | dict | list):
        return json.dumps(value, default=str)
    return str(value)


def reject_reasons(
    records: Sequence[Mapping[str, Any]], contract: RecordContract
) -> list[str | None]:
    """Why each API record breaks `contract` (None when it is clean).

    A page is checked as one table by the SQL conditions `split_records` checks files with, so
    a value gets the same verdict whichever way it arrives. Only the contract's columns are read.
    """
    columns = sorted(set(contract.required) | set(_column_types(contract)))
    page = pa.table(
        {
            **{c: pa.array([_as_text(r.get(c)) for r in records], pa.string()) for c in columns},
            "_row": pa.array(range(len(records)), pa.int64()),
        }
    )
    con = _cursor()
    try:
        con.register("page", page)
        reasons = con.sql(
            f"select {_first_reason(_reject_cases(contract))} from page order by _row"
        ).fetchall()
    finally:
        con.close()
    return [reason for (reason,) in reasons]


_ARROW_PAGE_TYPES = (pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.null())
"""Arrow types of the columns a page lands as it was sent: those dlt infers from the same
JSON values one row at a time (text, bigint, double, bool; an all-null column adds nothing)."""
API_DECIMAL_TYPE = pa.decimal128(38, 9)
"""A checked decimal's Arrow type on an API page: dlt's default `decimal` precision, which the
raw tables were created with when dlt typed the rows itself."""


def _arrow_column(values: list[Any]) -> pa.Array | None:
    """`values` as one Arrow array of the type Arrow infers, or None when they are of several
    types (or an integer is too large for 64 bits)."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def _text_column(values: list[Any]) -> pa.Array:
    """`values` as their text (`_as_text`). A column of only text or only integers (the usual
    page) is converted by Arrow, whose text of an integer is Python's: converting each value in
    Python was most of an API page's own time."""
    column = _arrow_column(values)
    if column is not None and column.type in (pa.string(), pa.int64(), pa.null()):
        return column.cast(pa.string())
    return pa.array([_as_text(value) for value in values], pa.string())


def page_table(records: Sequence[Mapping[str, Any]], contract: RecordContract) -> pa.Table | None:
    """An API page as one Arrow table for `check_page`, or None when it cannot be one.

    The contract's typed columns hold the values' text (`_as_text`, as `reject_reasons` reads
    them); every other column keeps its JSON type. A page with a nested value (an object or a
    list, which dlt flattens into `a__b` columns and child tables when it reads rows) or with
    values of several types in one column is left to dlt row by row: as Arrow it would land in
    another shape.
    """
    typed = _column_types(contract)
    names = list(dict.fromkeys([*itertools.chain.from_iterable(records), *contract.required]))
    columns: dict[str, pa.Array] = {}
    for name in names:
        values = [record.get(name) for record in records]
        if name in typed:
            columns[name] = _text_column(values)
            continue
        column = _arrow_column(values)
        # a nested value makes a struct or list column, several JSON types in one none
        if column is None or column.type not in _ARROW_PAGE_TYPES:
            return None
        if pa.types.is_null(column.type):
            if name not in contract.required:
                continue  # dlt adds no column for values that are all null
            column = column.cast(pa.string())  # checked as missing, lands nowhere
        columns[name] = column
    return pa.table(columns)


def check_page(
    page: pa.Table, contract: RecordContract, primary_key: Sequence[str] = ()
) -> tuple[pa.Table, list[str | None]]:
    """(clean rows, why each row breaks `contract` or None) of a `page_table`, in one query.

    The verdicts are `reject_reasons`' and the clean rows' typed columns hold what
    `split_records` lands from a file: the same value gets the same type whichever way it
    comes. Decimals take `API_DECIMAL_TYPE`; `primary_key` columns are not null.
    """
    numbered = page.append_column("_row", pa.array(range(page.num_rows), pa.int64()))
    types = _column_types(contract)
    typed = []
    for name in page.column_names:
        if name in types:
            # try_cast: a rejected row's value may not cast; clean rows fit exactly
            cast = f"try_cast({_quote(name)} as {types[name][0]})"
            typed.append(f"case when not {_is_blank(name)} then {cast} end as {_quote(name)}")
        else:
            typed.append(_quote(name))
    con = _cursor()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("page", numbered)
        checked = con.sql(
            f"""
            select {", ".join(typed)}, _reject_reason
            from (select *, {_first_reason(_reject_cases(contract))} as _reject_reason from page)
            order by _row
            """
        ).to_arrow_table()
    finally:
        con.close()
    reasons = checked["_reject_reason"].to_pylist()
    clean = checked.filter(pc.is_null(checked["_reject_reason"])).drop_columns("_reject_reason")
    schema = pa.schema(
        [
            pa.field(
                f.name,
                API_DECIMAL_TYPE if pa.types.is_decimal(f.type) else f.type,
                nullable=f.name not in primary_key,
            )
            for f in clean.schema
        ]
    )
    return clean.cast(schema), reasons


def strip_typed_text(record: Mapping[str, Any], contract: RecordContract) -> dict[str, Any]:
    """`record` with the text of its typed columns stripped of the whitespace around it, and
    blank text as null: what `split_records` lands, in a form dlt's own coercion reads."""
    stripped = {
        c: record[c].strip(SPACE_CHARACTERS) or None
        for c in _column_types(contract)
        if isinstance(record.get(c), str)
    }
    return {**record, **stripped}
