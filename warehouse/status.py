"""What the warehouse holds right now: last loads per source, row counts, freshness, last build."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from warehouse.database import connect
from warehouse.dbt import read_latest_results
from warehouse.settings import Paths


@dataclass
class SourceStatus:
    """One raw_<source> schema: its last completed load and how much it holds."""

    source: str
    last_load_at: datetime | None
    completed_loads: int
    rows: int
    tables: int
    quarantined: int
    last_run_status: str | None = None
    last_run_error: str | None = None

    @property
    def age_hours(self) -> float | None:
        if self.last_load_at is None:
            return None
        return (datetime.now(UTC) - self.last_load_at).total_seconds() / 3600


@dataclass
class WarehouseStatus:
    sources: list[SourceStatus] = field(default_factory=list)
    model_rows: dict[str, int] = field(default_factory=dict)
    last_build: dict[str, int] = field(default_factory=dict)
    last_build_at: str | None = None
    # the latest failed tasks of the Airflow DAG (`raw_meta.airflow_task_failures`), newest first
    task_failures: list[tuple[str, str, str]] = field(default_factory=list)


def read_status(paths: Paths) -> WarehouseStatus:
    """Collect the warehouse's status in one read-only connection."""
    status = WarehouseStatus()
    with connect(paths.duckdb_path) as connection:
        last_runs = last_load_runs(connection)
        for (schema,) in connection.execute(
            """
            select schema_name from information_schema.schemata
            where schema_name like 'raw\\_%' escape '\\'
                and schema_name <> 'raw_meta'
                -- dlt's scratch schemas for merges are not sources
                and schema_name not like '%\\_staging' escape '\\'
            order by schema_name
            """
        ).fetchall():
            source = source_status(connection, schema)
            source.last_run_status, source.last_run_error = last_runs.get(
                source.source, (None, None)
            )
            status.sources.append(source)
        status.task_failures = latest_task_failures(connection)
        status.model_rows = dict(
            connection.execute(
                """
                select schema_name, sum(estimated_size)::bigint
                from duckdb_tables()
                where database_name = current_database()
                    and schema_name in ('ods', 'snapshots', 'core',
                                        'finance', 'marketing', 'logistics', 'audit')
                group by schema_name
                order by schema_name
                """
            ).fetchall()
        )
    # each node's latest result, also of nodes the last (`--select`) build did not run
    status.last_build, status.last_build_at = last_build_results(read_latest_results(paths))
    return status


def source_status(connection: duckdb.DuckDBPyConnection, schema: str) -> SourceStatus:
    tables = [
        name
        for (name,) in connection.execute(
            "select table_name from duckdb_tables() where schema_name = ?", [schema]
        ).fetchall()
        if not name.startswith("_dlt")
    ]
    last_load_at, completed = (None, 0)
    if table_exists(connection, schema, "_dlt_loads"):
        last_load_at, completed = connection.execute(
            f'select max(inserted_at), count(*) from "{schema}"._dlt_loads where status = 0'
        ).fetchone()
    rows = sum(
        connection.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
        for name in tables
        if name != "quarantined_records"
    )
    quarantined = 0
    if "quarantined_records" in tables:
        quarantined = connection.execute(
            f'select count(*) from "{schema}".quarantined_records'
        ).fetchone()[0]
    return SourceStatus(
        source=schema.removeprefix("raw_"),
        last_load_at=last_load_at,
        completed_loads=completed,
        rows=rows,
        tables=len(tables),
        quarantined=quarantined,
    )


def last_load_runs(connection: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None]]:
    """Outcome and error of each source's latest `warehouse load`, from the loaders' run log."""
    if not table_exists(connection, "raw_meta", "load_runs"):
        return {}
    rows = connection.execute(
        """
        select source, status, error
        from raw_meta.load_runs
        qualify row_number() over (partition by source order by started_at desc) = 1
        """
    ).fetchall()
    return {source: (status, error) for source, status, error in rows}


def latest_task_failures(
    connection: duckdb.DuckDBPyConnection, limit: int = 5
) -> list[tuple[str, str, str]]:
    """When, which task and why, for the Airflow DAG's latest failed tasks (newest first)."""
    from warehouse.orchestration import FAILURES_SCHEMA, FAILURES_TABLE

    if not table_exists(connection, FAILURES_SCHEMA, FAILURES_TABLE):
        return []
    rows = connection.execute(
        f"""
        select strftime(failed_at, '%Y-%m-%d %H:%M'), task_id || ' (' || run_id || ')', error
        from {FAILURES_SCHEMA}.{FAILURES_TABLE}
        order by failed_at desc
        limit ?
        """,
        [limit],
    ).fetchall()
    return [tuple(row) for row in rows]


def table_exists(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        connection.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def last_build_results(run_results: dict | None) -> tuple[dict[str, int], str | None]:
    """Status counts of the nodes' latest results, and when the latest build ran."""
    if run_results is None:
        return {}, None
    counts: dict[str, int] = {}
    for node in run_results.get("results", []):
        counts[node["status"]] = counts.get(node["status"], 0) + 1
    return counts, run_results.get("metadata", {}).get("generated_at")
