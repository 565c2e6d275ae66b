"""Split a batch of records into clean rows and quarantined rows.

File sources hand DuckDB an Arrow table of text columns and get back two Arrow tables: the clean
rows with their declared types (timestamps converted to UTC) and the rejected rows shaped like
`QUARANTINE_SCHEMA`. API sources check their (small) pages record by record in Python with the
same `RecordContract`, so both kinds of source reject for the same reasons.
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import duckdb
import pyarrow as pa

from loaders.contracts import RecordContract
from loaders.quarantine import QUARANTINE_SCHEMA

DECIMAL_TYPE = "decimal(18, 2)"

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
    """`name` as a quoted SQL identifier, for the `columns` of `split_records`."""
    return _quote(name)


def _reject_cases(contract: RecordContract) -> list[tuple[str, str]]:
    """(condition that is true for a bad value, reason) pairs in the order they are checked."""
    cases = [
        (f"nullif(trim({_quote(c)}::varchar), '') is null", f"null_required_field:{c}")
        for c in contract.required
    ]
    typed = [
        (contract.timestamps, "timestamptz", "unparsable_timestamp"),
        (contract.dates, "date", "unparsable_date"),
        (contract.integers, "bigint", "unparsable_number"),
        (contract.decimals, DECIMAL_TYPE, "unparsable_number"),
        (contract.floats, "double", "unparsable_number"),
    ]
    for columns, sql_type, reason in typed:
        for c in columns:
            cases.append(
                (
                    f"nullif(trim({_quote(c)}), '') is not null "
                    f"and try_cast({_quote(c)} as {sql_type}) is null",
                    f"{reason}:{c}",
                )
            )
    for c, allowed in contract.enums.items():
        values = ", ".join(_literal(v) for v in allowed)
        condition = f"{_quote(c)} is not null and {_quote(c)} not in ({values})"
        cases.append((condition, reason_enum(c)))
    return cases


def reason_enum(column: str) -> str:
    """Quarantine reason for a value outside its column's enum."""
    return f"unknown_enum_value:{column}"


def extract_json_fields(table: pa.Table, column: str, fields: Sequence[str]) -> pa.Table:
    """`table` plus `_is_object` (whether `column` holds a JSON object) and one text column per
    top-level field in `fields` (null where the line is not an object or lacks the field).

    Each line is parsed once for all fields: one extraction per field parsed it again for every
    field and was most of a web file's load time.
    """
    paths = ", ".join(_json_path(field) for field in fields)
    values = ", ".join(
        f"_values[{index}] as {_quote(field)}" for index, field in enumerate(fields, start=1)
    )
    con = _cursor()
    try:
        con.register("json_lines", table)
        # DuckDB evaluates both sides of `and`: only valid JSON may reach json_type
        return con.sql(
            f"""
            select * exclude (_values), {values}
            from (
                select
                    *,
                    case when _is_object
                        then json_extract_string({_quote(column)}, [{paths}])
                    end as _values
                from (
                    select
                        *,
                        coalesce(
                            json_type(
                                case when json_valid({_quote(column)}) then {_quote(column)} end
                            ) = 'OBJECT',
                            false
                        ) as _is_object
                    from json_lines
                )
            )
            """
        ).to_arrow_table()
    finally:
        con.close()


def distinct_json_keys(table: pa.Table, column: str) -> list[str]:
    """Every key of the JSON objects in text column `column`, sorted; other lines are skipped."""
    con = _cursor()
    try:
        con.register("json_lines", table)
        rows = con.execute(
            f"""
            select distinct unnest(json_keys(value)) as key
            from (select {_quote(column)} as value from json_lines)
            where json_valid(value) and json_type(value) = 'OBJECT'
            order by key
            """
        ).fetchall()
    finally:
        con.close()
    return [key for (key,) in rows]


def _typed_expression(column: str, contract: RecordContract) -> str:
    quoted = _quote(column)
    casts = {
        **dict.fromkeys(contract.timestamps, "timestamptz"),
        **dict.fromkeys(contract.dates, "date"),
        **dict.fromkeys(contract.integers, "bigint"),
        **dict.fromkeys(contract.decimals, DECIMAL_TYPE),
        **dict.fromkeys(contract.floats, "double"),
    }
    if column in casts:
        return f"cast(nullif(trim({quoted}), '') as {casts[column]}) as {quoted}"
    return quoted


def split_records(
    table: pa.Table,
    *,
    source_table: str,
    contract: RecordContract,
    location: str,
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
    by its key). Columns of `primary_key` are declared not null in the clean table, as dlt
    declares them. With `source_columns` the clean rows carry `_source_file` and `_source_line`.
    """
    if columns is None:
        columns = {name: _quote(name) for name in table.column_names if name != "_source_line"}
    expected = (
        set(contract.required)
        | set(contract.enums)
        | {
            *contract.timestamps,
            *contract.dates,
            *contract.integers,
            *contract.decimals,
            *contract.floats,
        }
    )
    # a column the contract names but the file lacks is null in every row, so it fails `required`
    # like any other null instead of breaking the query
    select_list = [f"{expr} as {_quote(name)}" for name, expr in columns.items()]
    select_list += [f"null::varchar as {_quote(c)}" for c in sorted(expected - set(columns))]
    output_columns = [*columns, *sorted(expected - set(columns))]

    def case(pairs: Sequence[tuple[str, str]]) -> str:
        if not pairs:
            return "null::varchar"
        return "case " + " ".join(f"when {c} then {_literal(r)}" for c, r in pairs) + " end"

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
                    _source_line,
                    {", ".join(select_list)},
                    {case(prechecks)} as _precheck_reason,
                    {payload_sql or "null::varchar"} as _raw_payload
                from input_rows
            )
            select
                * exclude (_raw_payload),
                coalesce(_raw_payload, {default_payload}) as _raw_payload,
                coalesce(_precheck_reason, {case(_reject_cases(contract))}) as _reject_reason
            from extracted
            """
        )
        typed = ", ".join(_typed_expression(c, contract) for c in output_columns)
        source = f", {_literal(location)} as _source_file, _source_line" if source_columns else ""
        clean = con.sql(
            f"""
            select {typed}{source}
            from checked where _reject_reason is null order by _source_line
            """
        ).to_arrow_table()
        row_location = location_sql or f"{_literal(location + ':')} || _source_line"
        quarantined = con.sql(
            f"""
            select
                md5({_literal(source_table + "|")} || _reject_reason || '|'
                    || ({row_location})) as quarantine_id,
                {_literal(source_table)} as source_table,
                _reject_reason as reason,
                {row_location} as source_location,
                _raw_payload as raw_payload
            from checked where _reject_reason is not null order by _source_line
            """
        ).to_arrow_table()
    finally:
        con.close()
    not_null = pa.schema(
        [f.with_nullable(f.name not in primary_key) for f in clean.schema], clean.schema.metadata
    )
    return clean.cast(not_null), quarantined.cast(QUARANTINE_SCHEMA)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parses(value: Any, parser: type) -> bool:
    try:
        if parser is Decimal:
            if isinstance(value, bool):
                return False
            Decimal(str(value))
        elif parser is datetime:
            datetime.fromisoformat(str(value))
        else:
            date.fromisoformat(str(value))
    except (ValueError, InvalidOperation):
        return False
    return True


def reject_reason(record: Mapping[str, Any], contract: RecordContract) -> str | None:
    """Why an API record breaks `contract`, or None when it is clean (same reasons as files)."""
    for column in contract.required:
        if record.get(column) in (None, ""):
            return f"null_required_field:{column}"
    for column in contract.integers:
        value = record.get(column)
        if value is not None and not _is_integer(value):
            return f"unparsable_number:{column}"
    checks = [
        (contract.decimals + contract.floats, Decimal, "unparsable_number"),
        (contract.timestamps, datetime, "unparsable_timestamp"),
        (contract.dates, date, "unparsable_date"),
    ]
    for columns, parser, reason in checks:
        for column in columns:
            value = record.get(column)
            if value is not None and not _parses(value, parser):
                return f"{reason}:{column}"
    for column, allowed in contract.enums.items():
        value = record.get(column)
        if value is not None and value not in allowed:
            return reason_enum(column)
    return None
