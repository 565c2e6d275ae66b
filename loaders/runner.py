"""`load()`: land Larkspur's source systems in the warehouse, one dlt pipeline per source."""

import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.common.configuration.exceptions import ConfigFieldMissingException, LookupTraces
from dlt.common.destination import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.extract import DltSource
from requests import ConnectionError as RequestsConnectionError
from requests import HTTPError, Timeout

from loaders.ads import ads
from loaders.errors import LoaderError
from loaders.fx import fx
from loaders.logistics import logistics
from loaders.payments import payments
from loaders.shop import shop
from loaders.shop.settings import DEFAULT_DATABASE_FILE
from loaders.stats import RunStats, start_stats
from loaders.web import web
from warehouse.errors import WarehouseError
from warehouse.settings import duckdb_memory_limit

SOURCE_NAMES: tuple[str, ...] = ("shop", "payments", "ads", "fx", "web", "logistics")
"""Every source `load()` knows, in the order it loads them."""

DESTINATIONS = ("duckdb", "postgres")
META_DATASET = "raw_meta"
LOAD_RUNS_TABLE = "load_runs"

ProgressCallback = Callable[[str, str], None]


@dataclass
class SourceResult:
    """What loading one source did."""

    name: str
    ok: bool
    error: str | None
    load_ids: list[str]
    rows: dict[str, int]
    files_read: list[str]
    quarantined: dict[tuple[str, str], int]
    started_at: datetime
    finished_at: datetime
    elapsed_seconds: float

    @property
    def quarantined_rows(self) -> int:
        """All records this load sent to `quarantined_records`."""
        return sum(self.quarantined.values())


@dataclass
class LoadReport:
    """The results of one `load()` call, one `SourceResult` per source in load order."""

    run_id: str
    destination: str
    results: list[SourceResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every source loaded without error."""
        return all(result.ok for result in self.results)

    def result(self, name: str) -> SourceResult:
        """The result of source `name`."""
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)


@dataclass(frozen=True)
class _Settings:
    data_dir: Path
    destination: str
    duckdb_path: Path


def _resolve_settings(
    data_dir: Path | None, destination: str | None, duckdb_path: Path | None
) -> _Settings:
    resolved_dir = Path(data_dir or os.environ.get("WAREHOUSE_DATA_DIR") or "data").resolve()
    resolved_destination = destination or os.environ.get("WAREHOUSE_DESTINATION") or "duckdb"
    if resolved_destination not in DESTINATIONS:
        raise LoaderError(
            f"unknown destination {resolved_destination!r}: use one of {', '.join(DESTINATIONS)}"
        )
    env_duckdb = os.environ.get("WAREHOUSE_DUCKDB_PATH")
    resolved_duckdb = Path(duckdb_path or env_duckdb or resolved_dir / "warehouse.duckdb")
    return _Settings(resolved_dir, resolved_destination, resolved_duckdb.resolve())


def _check_source_names(sources: Sequence[str] | None) -> list[str]:
    if sources is None:
        return list(SOURCE_NAMES)
    if isinstance(sources, str):
        sources = [sources]
    unknown = [name for name in sources if name not in SOURCE_NAMES]
    if unknown:
        raise LoaderError(
            f"unknown source {', '.join(map(repr, unknown))}: choose from {', '.join(SOURCE_NAMES)}"
        )
    # load order is fixed whatever order the caller names them in
    return [name for name in SOURCE_NAMES if name in sources]


def _check_duckdb_opens(path: Path) -> None:
    """Open the warehouse file as the load will, memory cap included, or say what stops it."""
    try:
        memory_limit = duckdb_memory_limit()  # the same check `warehouse build` makes
    except WarehouseError as error:
        raise LoaderError(str(error)) from error
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        duckdb.connect(str(path), config={"memory_limit": memory_limit}).close()
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise LoaderError(
                f"another process holds the DuckDB file {path} (a dbt run, a notebook or another "
                "load?): close it and run the load again"
            ) from error
        raise LoaderError(f"cannot open the DuckDB file {path}: {error}") from error


def duckdb_destination(duckdb_path: Path) -> Destination:
    """dlt's DuckDB destination for the file, with DuckDB's memory capped as dbt's profile does.

    Left alone, DuckDB takes up to 80 % of the machine's memory for a large merge instead of
    spilling to disk.
    """
    credentials = DuckDbCredentials(
        str(duckdb_path), global_config={"memory_limit": duckdb_memory_limit()}
    )
    return dlt.destinations.duckdb(credentials=credentials)


def _destination(settings: _Settings) -> Destination:
    if settings.destination == "duckdb":
        return duckdb_destination(settings.duckdb_path)
    return dlt.destinations.postgres()


def _make_source(name: str, settings: _Settings) -> DltSource:
    sources_dir = settings.data_dir / "sources"
    if name == "shop":
        credentials = dlt.secrets.get("sources.shop.credentials") or (
            f"sqlite:///{sources_dir / DEFAULT_DATABASE_FILE}"
        )
        return shop(credentials=credentials)
    if name == "payments":
        return payments()
    if name == "ads":
        return ads()
    if name == "fx":
        return fx()
    if name == "web":
        return web(bucket_url=dlt.config.get("sources.web.bucket_url") or str(sources_dir / "web"))
    bucket_url = dlt.config.get("sources.logistics.bucket_url") or str(sources_dir / "logistics")
    return logistics(bucket_url=bucket_url)


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _missing_env_keys(traces: Any) -> list[str]:
    for field_traces in traces.values():
        for trace in field_traces:
            if isinstance(trace, LookupTraces):
                return _missing_env_keys(trace.traces)
        # the first keys tried carry the pipeline name; the others are the documented ones
        return [
            trace.key
            for trace in field_traces
            if trace.provider == "Environment Variables" and not trace.key.startswith("LARKSPUR_")
        ]
    return []


def _missing_env_key(traces: Any) -> str:
    """The environment variable to name for the first value dlt could not find."""
    keys = _missing_env_keys(traces) or ["?"]
    # a source's value is documented as SOURCES__<SOURCE>__<FIELD>
    documented = [key for key in keys if key.startswith("SOURCES__") and key.count("__") == 2]
    return (documented or keys)[0]


def describe_error(name: str, error: BaseException) -> str:
    """One line saying what went wrong loading source `name` and what to do about it."""
    chain = _causes(error)
    for cause in chain:
        if isinstance(cause, LoaderError):
            return str(cause)
        if isinstance(cause, ConfigFieldMissingException):
            env_key = _missing_env_key(cause.traces)
            toml_key = env_key.lower().replace("__", ".")
            return (
                f"missing configuration {toml_key}: set it in .dlt/secrets.toml (see "
                f".dlt/secrets.toml.example) or as the environment variable {env_key}"
            )
        if isinstance(cause, HTTPError) and cause.response is not None:
            status = cause.response.status_code
            hint = f"check sources.{name}.token" if status in (401, 403) else "see the server's log"
            return f"the {name} API answered {status} for {cause.response.url}: {hint}"
        if isinstance(cause, RequestsConnectionError | Timeout):
            return (
                f"cannot reach the {name} API ({_first_line(cause)}): start it with "
                f"`warehouse serve-api` or set sources.{name}.base_url"
            )
        if isinstance(cause, duckdb.IOException) and "lock" in str(cause).lower():
            return "another process holds the DuckDB file: close it and run the load again"
    return f"{name} failed: {_first_line(chain[-1])}"


def _rows_of_loads(pipeline: dlt.Pipeline, load_ids: list[str]) -> dict[str, int]:
    """Rows per table the packages `load_ids` left in the destination."""
    rows: dict[str, int] = {}
    placeholders = ", ".join(["%s"] * len(load_ids))
    with pipeline.sql_client() as client:
        for table in pipeline.default_schema.data_table_names():
            query = (
                f"select count(*) from {client.make_qualified_table_name(table)} "
                f"where _dlt_load_id in ({placeholders})"
            )
            with client.execute_query(query, *load_ids) as cursor:
                count = cursor.fetchone()[0]
            if count:
                rows[table] = count
    return rows


def _complete_pending_loads(pipeline: dlt.Pipeline) -> tuple[list[str], dict[str, int]]:
    """Normalize and load the packages a killed run left behind; return their ids and rows.

    Their rows are counted in the destination: the extract counts of the killed run died with
    it. Without this step `pipeline.run` would load them and return without extracting.
    """
    extracted = list(pipeline.list_extracted_load_packages())
    if extracted:
        pipeline.normalize()
    pending = [*extracted, *pipeline.list_normalized_load_packages()]
    if not pending:
        return [], {}
    pipeline.load()
    load_ids = sorted(set(pending))
    return load_ids, _rows_of_loads(pipeline, load_ids)


def _run_pipeline(
    name: str, settings: _Settings, destination: Destination
) -> tuple[list[str], dict[str, int]]:
    pipeline = dlt.pipeline(
        pipeline_name=f"larkspur_{name}",
        pipelines_dir=str(settings.data_dir / "pipelines"),
        destination=destination,
        dataset_name=f"raw_{name}",
    )
    # Bulk files rather than dlt's default row inserts, which took over half of an API load's
    # time in DuckDB: PostgreSQL loads CSV by COPY, DuckDB reads Parquet natively.
    file_format = "csv" if settings.destination == "postgres" else "parquet"
    resumed_ids, rows = _complete_pending_loads(pipeline)
    info = pipeline.run(_make_source(name, settings), loader_file_format=file_format)
    # rows as extracted: dlt's normalize counts are off for JSON rows written as CSV
    extract_info = pipeline.last_trace.last_extract_info
    for step_metrics in extract_info.metrics.values() if extract_info else []:
        for metrics in step_metrics:
            for table, table_metrics in metrics["table_metrics"].items():
                # an empty table dlt only creates (the quarantine) holds no rows to report
                if not table.startswith("_dlt") and table_metrics.items_count:
                    rows[table] = rows.get(table, 0) + table_metrics.items_count
    return [*resumed_ids, *info.loads_ids], rows


def _load_source(name: str, settings: _Settings, destination: Destination) -> SourceResult:
    stats: RunStats = start_stats()
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    error: str | None = None
    load_ids: list[str] = []
    rows: dict[str, int] = {}
    try:
        load_ids, rows = _run_pipeline(name, settings, destination)
    # a failing source is reported and the others still load
    except Exception as failure:
        error = describe_error(name, failure)
    if stats.file_errors:
        file_error = (
            "; ".join(stats.file_errors) + ": the other files loaded; fix or re-deliver the "
            "file and it is read again on the next run"
        )
        error = f"{error}; {file_error}" if error else file_error
    return SourceResult(
        name=name,
        ok=error is None,
        error=error,
        load_ids=load_ids,
        rows=rows,
        files_read=list(stats.files_read),
        quarantined=dict(stats.quarantined),
        started_at=started_at,
        finished_at=datetime.now(UTC),
        elapsed_seconds=round(time.perf_counter() - clock, 3),
    )


def _log_runs(
    run_id: str, results: list[SourceResult], settings: _Settings, destination: Destination
) -> None:
    """Append one `raw_meta.load_runs` row per source load, in a single small load."""
    pipeline = dlt.pipeline(
        pipeline_name="larkspur_meta",
        pipelines_dir=str(settings.data_dir / "pipelines"),
        destination=destination,
        dataset_name=META_DATASET,
    )
    rows = [
        {
            "run_id": run_id,
            "source": result.name,
            "load_ids": json.dumps(result.load_ids),
            "started_at": result.started_at,
            "finished_at": result.finished_at,
            "elapsed_seconds": result.elapsed_seconds,
            "status": "ok" if result.ok else "failed",
            "rows_per_table": json.dumps(result.rows, sort_keys=True),
            "files_read": len(result.files_read),
            "quarantined_rows": result.quarantined_rows,
            "quarantined_by_reason": json.dumps(
                {
                    f"{table}:{reason}": n
                    for (table, reason), n in sorted(result.quarantined.items())
                }
            ),
            "error": result.error,
        }
        for result in results
    ]
    columns: Any = {
        "error": {"data_type": "text", "nullable": True},
        "started_at": {"data_type": "timestamp"},
        "finished_at": {"data_type": "timestamp"},
    }
    pipeline.run(rows, table_name=LOAD_RUNS_TABLE, write_disposition="append", columns=columns)


def load(
    sources: Sequence[str] | None = None,
    *,
    data_dir: Path | None = None,
    destination: str | None = None,
    duckdb_path: Path | None = None,
    progress: ProgressCallback | None = None,
) -> LoadReport:
    """Load `sources` (default: all of `SOURCE_NAMES`) one after another and report on each.

    `data_dir` defaults to env `WAREHOUSE_DATA_DIR` or `./data`; `destination` to env
    `WAREHOUSE_DESTINATION` or "duckdb"; `duckdb_path` to env `WAREHOUSE_DUCKDB_PATH` or
    `<data_dir>/warehouse.duckdb`. Raises `LoaderError` before loading anything for an unknown
    source or destination and for a DuckDB file another process holds; a source that fails is
    reported in its `SourceResult` while the others still load. A package a killed run left
    behind is loaded first; its load id and rows count in that source's result. Every source
    load appends a row to `raw_meta.load_runs`, written together when the run ends (also when
    it is interrupted by an exception).
    """
    names = _check_source_names(sources)
    settings = _resolve_settings(data_dir, destination, duckdb_path)
    if settings.destination == "duckdb":
        _check_duckdb_opens(settings.duckdb_path)
    # Arrow tables get `_dlt_load_id` like JSON rows do, so every raw row names its load
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    dest = _destination(settings)
    report = LoadReport(run_id=uuid.uuid4().hex, destination=settings.destination)
    try:
        for name in names:
            if progress:
                progress(name, "loading")
            result = _load_source(name, settings, dest)
            report.results.append(result)
            if progress:
                total = sum(result.rows.values())
                status = "loaded" if result.ok else f"failed: {result.error}"
                progress(name, f"{status} ({total} rows, {result.elapsed_seconds:.1f} s)")
    finally:
        # one log load for the whole run: a dlt load per source would double short loads
        if report.results:
            _write_log(report, settings, dest)
    return report


def _write_log(report: LoadReport, settings: _Settings, destination: Destination) -> None:
    try:
        _log_runs(report.run_id, report.results, settings, destination)
    # the data loaded; only its log entry is missing, which the report says
    except Exception as failure:
        note = f"could not write raw_meta.load_runs: {describe_error('meta', failure)}"
        for result in report.results:
            result.ok = False
            result.error = f"{result.error}; {note}" if result.error else note
