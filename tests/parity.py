"""Figures every engine computes alike, to compare a relation built on two engines.

One row per relation: its row count, each numeric column's sum rounded to the cent, each boolean
column's count of trues and every other column's count of distinct values. Rounding and
distinct counts absorb what engines legitimately do differently (the last bits of a float sum,
how a timestamp prints), and nothing else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml

from warehouse.postgres import MART_SCHEMAS
from warehouse.settings import PROJECT_DIR

# type names as DuckDB, PostgreSQL and Spark report them, without their precision and scale
NUMBER_TYPES = {
    "tinyint",
    "smallint",
    "int",
    "integer",
    "bigint",
    "hugeint",
    "decimal",
    "numeric",
    "real",
    "float",
    "double",
    "double precision",
}
BOOLEAN_TYPES = {"boolean", "bool"}


def mart_relations() -> list[str]:
    """`schema.model` of every mart model, from the project's folders."""
    return sorted(
        f"{path.parent.name}.{path.stem}"
        for schema in MART_SCHEMAS
        for path in (PROJECT_DIR / "models" / "marts" / schema).glob("*.sql")
    )


def snapshot_relations() -> list[str]:
    """`snapshots.<name>` of every snapshot the project declares."""
    declared = yaml.safe_load((PROJECT_DIR / "snapshots" / "_snapshots.yml").read_text())
    return sorted(f"snapshots.{snapshot['name']}" for snapshot in declared["snapshots"])


def figure_kind(data_type: str) -> str:
    """`number`, `boolean` or `value`: which figure a column of this engine's type gets."""
    name = data_type.lower().split("(", 1)[0].strip()
    if name in NUMBER_TYPES:
        return "number"
    if name in BOOLEAN_TYPES:
        return "boolean"
    return "value"


def aggregate_query(relation: str, columns: list[tuple[str, str]], quote: str = '"') -> str:
    """The figures of `relation` whose `columns` are (name, figure kind) pairs; `quote` is the
    engine's identifier quote (a backtick on Spark)."""
    figures = ["count(*)"]
    for column, kind in columns:
        quoted = f"{quote}{column}{quote}"
        if kind == "number":
            figures.append(f"round(cast(sum({quoted}) as decimal(38, 6)), 2)")
        elif kind == "boolean":
            figures.append(f"sum(case when {quoted} then 1 else 0 end)")
        else:
            figures.append(f"count(distinct {quoted})")
    schema, name = relation.split(".")
    return f"select {', '.join(figures)} from {quote}{schema}{quote}.{quote}{name}{quote}"


def normalise(value: Any) -> Any:
    """Drivers return Decimal for the sums and int for the counts; compare them as Decimal."""
    return Decimal(value) if isinstance(value, int | Decimal) else value


def differences(
    relation: str,
    names: list[str],
    figures: dict[str, list[Any]],
    ignore: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """One line per figure on which the engines (the keys of `figures`, two) disagree, but for
    the columns in `ignore`."""
    (left, left_figures), (right, right_figures) = figures.items()
    return [
        f"{relation}.{name}: {left} {in_left} != {right} {in_right}"
        for name, in_left, in_right in zip(
            ["row count", *names],
            [normalise(value) for value in left_figures],
            [normalise(value) for value in right_figures],
            strict=True,
        )
        if in_left != in_right and name not in ignore
    ]
