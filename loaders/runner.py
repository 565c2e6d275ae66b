"""`load()`: land Larkspur's source systems in the warehouse, one dlt pipeline per source."""

import json
import logging
import signal
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow.dataset
import pyarrow.parquet
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigValueCannotBeCoercedException,
    LookupTraces,
)
from dlt.common.destination import Destination
from dlt.common.destination.exceptions import DestinationUndefinedEntity
from dlt.common.storages.load_package import ParsedLoadJobFileName
from dlt.common.utils import without_none
from dlt.common.versioned_state import decompress_state
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.postgres.postgres import PostgresClient, PostgresParquetCopyJob
from requests import ConnectionError as RequestsConnectionError
from requests import HTTPError, Timeout

from loaders.errors import LoaderError, LoadInterrupted
from loaders.files import replace_redelivered_files
from loaders.interrupts import SignalWatch, stop_signal_received
from loaders.registry import (
    META_DATASET_NAME,
    SOURCES,
    SourceContext,
    lands_files,
    source_names,
)
from loaders.secrets import configured_secrets, mask_secrets
from loaders.stats import RunStats, start_stats
from warehouse.database import is_lock_error
from warehouse.errors import WarehouseError
from warehouse.settings import destination_name, duckdb_memory_limit, resolve_paths

# "spark" lands Parquet in the lake (dlt's filesystem destination) for the Spark engine to read
DESTINATIONS = ("duckdb", "postgres", "spark")
META_DATASET = f"raw_{META_DATASET_NAME}"
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
    # also those of loads a killed run landed and this run logs, named <resource>/<path>
    files_read: list[str]
    quarantined: dict[tuple[str, str], int]
    started_at: datetime
    finished_at: datetime
    elapsed_seconds: float
    # Ctrl-C or SIGTERM stopped this source's load, and with it the whole run
    interrupted: bool = False
    # seconds of each of dlt's steps this run (extract, normalize, load): extract reads and
    # checks the source, normalize and load write what it extracted into the destination
    step_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """ok, failed or interrupted (by Ctrl-C or SIGTERM; the next load finishes it)."""
        if self.interrupted:
            return "interrupted"
        return "ok" if self.ok else "failed"

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
    lake_url: str
    allow_shrink: bool = False

    @property
    def lands_files(self) -> bool:
        """Whether the destination is the lake: files, no SQL database (see `lake_destination`)."""
        return self.destination == "spark"


def _resolve_settings(
    data_dir: Path | None, destination: str | None, duckdb_path: Path | None
) -> _Settings:
    paths = resolve_paths(data_dir, duckdb_path)
    resolved_destination = destination_name(destination)
    if resolved_destination not in DESTINATIONS:
        raise LoaderError(
            f"unknown destination {resolved_destination!r}: use one of {', '.join(DESTINATIONS)}"
        )
    return _Settings(paths.data_dir, resolved_destination, paths.duckdb_path, paths.lake_url)


def _check_source_names(sources: Sequence[str] | None) -> list[str]:
    known = source_names()
    if sources is None:
        return list(known)
    if isinstance(sources, str):
        sources = [sources]
    unknown = [name for name in sources if name not in known]
    if unknown:
        raise LoaderError(
            f"unknown source {', '.join(map(repr, unknown))}: choose from {', '.join(known)}"
        )
    # load order is fixed whatever order the caller names them in
    return [name for name in known if name in sources]


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
        if is_lock_error(error):
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


def lake_destination(lake_url: str) -> Destination:
    """dlt's filesystem destination writing Parquet into `<lake>/raw_<source>/<table>/`.

    dlt's default layout (`{table_name}/{load_id}.{file_id}.{ext}`) gives each table a folder
    of its own, which the Spark engine registers as one external table
    (`warehouse.spark.register_lake`). Its `_dlt_loads` and state are JSON files beside them.
    What plain Parquet files cannot do, dlt and this runner do differently there: `merge`
    falls back to `append` (the staging models' completed loads and the ODS models' latest row
    per key keep one version), rows are never deleted in place (see
    `_discard_unrecorded_rows` and `loaders.files.replace_redelivered_files`).
    """
    return dlt.destinations.filesystem(bucket_url=lake_url, destination_name="lake")


def postgres_destination() -> Destination:
    """dlt's PostgreSQL destination, loading the Parquet files every source writes by ADBC's
    binary COPY (`adbc-driver-postgresql`), each file streamed.

    Against dlt's CSV and COPY it more than halved the write of a year of web events at scale
    factor 1 (48 s against 96 s): normalize no longer rewrites each extracted Parquet file as
    CSV, and PostgreSQL no longer parses text.
    """
    return _PostgresStreamingParquet()


class _StreamedParquetCopyJob(PostgresParquetCopyJob):
    """dlt's ADBC job, handing ADBC the file as a stream of record batches.

    dlt 1.31 passes a generator of batches, which `adbc_ingest` first collects into one table:
    the whole file in memory (the load of a year of web events at scale factor 1 peaked at
    8,328 MiB), and no table at all from a file without rows ("Must pass schema, or at least one
    RecordBatch"), which dlt writes for a table declared before it has any (the quarantine
    tables, `dlt.mark.materialize_table_schema()`). A reader with the file's schema streams
    batch by batch into one binary COPY, and copies nothing from an empty file.
    """

    def run(self) -> None:
        with self._connect() as connection, connection.cursor() as cursor:
            catalog_name, schema_name = self._set_catalog_and_schema()
            with pyarrow.parquet.ParquetFile(self._file_path) as parquet:
                batches = pyarrow.RecordBatchReader.from_batches(
                    parquet.schema_arrow, parquet.iter_batches()
                )
                cursor.adbc_ingest(
                    self.load_table_name,
                    batches,
                    mode="append",
                    **without_none({"catalog_name": catalog_name, "db_schema_name": schema_name}),
                )
            connection.commit()


class _PostgresClientStreamingParquet(PostgresClient):
    def create_load_job(
        self, table: Any, file_path: str, load_id: str, restore: bool = False
    ) -> Any:
        job = super().create_load_job(table, file_path, load_id, restore)
        if isinstance(job, PostgresParquetCopyJob):
            return _StreamedParquetCopyJob(file_path)
        return job


class _PostgresStreamingParquet(dlt.destinations.postgres):
    @property
    def client_class(self) -> type[PostgresClient]:
        return _PostgresClientStreamingParquet

    @property
    def destination_type(self) -> str:
        # dlt's own to its configuration (`destination.postgres.*`) and the pipelines' state,
        # which name a destination by its type
        return dlt.destinations.postgres().destination_type


class _ExpectedLakeFallback(logging.Filter):
    """Drops dlt's warning that the lake appends what a source merges: expected there (see
    `lake_destination`), and repeated for every table of every load it would bury the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Falling back to `append`")


def _destination(settings: _Settings) -> Destination:
    if settings.destination == "duckdb":
        return duckdb_destination(settings.duckdb_path)
    if settings.lands_files:
        dlt_logger = logging.getLogger("dlt")
        if not any(isinstance(known, _ExpectedLakeFallback) for known in dlt_logger.filters):
            dlt_logger.addFilter(_ExpectedLakeFallback())
        return lake_destination(settings.lake_url)
    return postgres_destination()


def _source_context(settings: _Settings, pipeline: dlt.Pipeline) -> SourceContext:
    return SourceContext(settings.data_dir / "sources", pipeline, settings.allow_shrink)


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
    """One line saying what went wrong loading source `name` and what to do about it.

    Every error the load reports, logs and prints passes here: secrets are masked once, here.
    """
    return mask_secrets(_explain_error(name, error), configured_secrets(source_names()))


def _explain_error(name: str, error: BaseException) -> str:
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
        if isinstance(cause, ConfigValueCannotBeCoercedException):
            hint = getattr(cause.hint, "__name__", str(cause.hint))
            env_key = f"SOURCES__{name.upper()}__{cause.field_name.upper()}"
            return (
                f"sources.{name}.{cause.field_name} is {cause.field_value!r}, not a {hint}: fix "
                f"it in .dlt/config.toml or the environment variable {env_key}"
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
        if is_lock_error(cause):
            return "another process holds the DuckDB file: close it and run the load again"
    # the callers say which source failed: the message is the innermost error's first line
    return _first_line(chain[-1])


def pipelines_dir(data_dir: Path, destination: str) -> Path:
    """The folder of dlt's working state for loads into `destination`.

    One per destination: which files were read and how far each API cursor got is true of one
    destination only, so a second destination loaded from the same data folder starts empty.
    """
    return data_dir / "pipelines" / destination


def _move_shared_layout_pipelines(data_dir: Path) -> None:
    """Move `<data>/pipelines/larkspur_<name>` folders into their destination's folder.

    Data folders loaded before state was kept per destination hold every pipeline there; moved,
    an existing warehouse goes on loading increments (and finishes a killed run's packages)
    instead of reading everything again.
    """
    for folder in sorted((data_dir / "pipelines").glob("larkspur_*")):
        try:
            state = json.loads((folder / "state.json").read_text())
        except (OSError, ValueError):
            continue
        destination = str(state.get("destination_type") or "").rsplit(".", 1)[-1]
        target = pipelines_dir(data_dir, destination) / folder.name
        if destination in DESTINATIONS and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(target)


def _pipeline(
    name: str, dataset_name: str, settings: _Settings, destination: Destination
) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"larkspur_{name}",
        pipelines_dir=str(pipelines_dir(settings.data_dir, settings.destination)),
        destination=destination,
        dataset_name=dataset_name,
    )


def _destination_lost_state(pipeline: dlt.Pipeline) -> bool:
    """Whether the pipeline loaded before but its destination holds no state of it now.

    dlt starts over by itself when the dataset is missing, but not when it exists empty, as
    `warehouse setup-postgres` leaves the raw schemas of a recreated database.
    """
    if pipeline.default_schema_name is None or pipeline.has_pending_data:
        return False
    try:
        with pipeline.destination_client() as client:
            return client.get_stored_state(pipeline.pipeline_name) is None  # type: ignore[attr-defined]
    except DestinationUndefinedEntity:
        return True


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
            try:
                with client.execute_query(query, *load_ids) as cursor:
                    count = cursor.fetchone()[0]
            except DestinationUndefinedEntity:
                # a table of the lake no load sent rows to has no files, so no SQL view
                continue
            if count:
                rows[table] = count
    return rows


def _complete_pending_loads(pipeline: dlt.Pipeline) -> None:
    """Normalize and load the packages a killed run left behind.

    Without this step `pipeline.run` would load them and return without extracting. Their
    loads are then logged like any other unlogged load (`_unlogged_loads`).
    """
    if pipeline.list_extracted_load_packages():
        pipeline.normalize()
    if pipeline.list_normalized_load_packages():
        _discard_unrecorded_rows(pipeline)
        pipeline.load()


def _discard_unrecorded_rows(pipeline: dlt.Pipeline) -> None:
    """Make a killed load's jobs land each row once when dlt runs them again.

    dlt runs a pending package's job again unless it recorded the job's outcome, which it does
    after the destination committed the rows: a kill in between leaves the rows in the table
    and the job to run, and an appended (or truncated-once replaced) table would get them
    twice. The package's rows carry its load id, which no finished load has, but not which of
    its files landed them: so for each table with such a job, every job of the package that
    loads into the table runs again and the table's rows of the package are deleted. The jobs
    are put back first: killed in between, the next run deletes and reruns them all again.
    Tables loaded through dlt's staging dataset (merge) replace rows by key on every run.
    """
    if lands_files(pipeline):
        # In the lake a job writes one file named after its load and its own file id: run
        # again, it rewrites that file, so its rows land once without deleting anything (which
        # Parquet files could not do in place).
        return
    # dlt keeps the job files of its packages here; no public API moves a job back
    packages = pipeline._get_load_storage().normalized_packages
    with pipeline.destination_client() as job_client:
        for load_id in pipeline.list_normalized_load_packages():
            may_have_written = {
                ParsedLoadJobFileName.parse(job_file).table_name
                for job_file, _ in packages.list_retried_new_jobs(load_id)
            }
            tables = sorted(
                table
                for table in may_have_written
                if not job_client.should_load_data_to_staging_dataset(table)  # type: ignore[attr-defined]
            )
            if not tables:
                continue
            for state, job in packages.list_all_jobs_with_states(load_id):
                if job.table_name not in tables:
                    continue
                name = job.file_name()
                packages.clear_pending_transition(load_id, name)
                if state == "completed_jobs":
                    packages.storage.atomic_rename(
                        packages.get_job_file_path(load_id, "completed_jobs", name),
                        packages.get_job_file_path(load_id, "started_jobs", name),
                    )
            with pipeline.sql_client() as client:
                for table in tables:
                    try:
                        client.execute_sql(
                            f"delete from {client.make_qualified_table_name(table)} "
                            "where _dlt_load_id = %s",
                            load_id,
                        )
                    except DestinationUndefinedEntity:
                        # dlt had not created the table yet: nothing landed there
                        continue


def _unlogged_loads(pipeline: dlt.Pipeline, source: str) -> list[str]:
    """Completed loads of the source's dataset that no `raw_meta.load_runs` row names.

    A run killed after a source loaded, or whose log could not be written, leaves such loads;
    the next run logs them as its own.
    """
    with pipeline.sql_client() as client:
        try:
            loaded = client.execute_sql(
                f"select load_id from {client.make_qualified_table_name('_dlt_loads')} "
                "where status = 0"
            )
        except DestinationUndefinedEntity:
            return []
        if lands_files(pipeline):
            runs = _lake_load_runs(pipeline, source)
        else:
            with client.with_alternative_dataset_name(META_DATASET):
                try:
                    runs = client.execute_sql(
                        "select load_ids from "
                        f"{client.make_qualified_table_name(LOAD_RUNS_TABLE)} where source = %s",
                        source,
                    )
                except DestinationUndefinedEntity:
                    runs = []
    logged: set[str] = set()
    for (load_ids,) in runs or []:
        logged.update(json.loads(load_ids))
    return sorted({load_id for (load_id,) in loaded or []} - logged)


def _lake_load_runs(pipeline: dlt.Pipeline, source: str) -> list[tuple[str]]:
    """`raw_meta.load_runs`' `load_ids` of `source`, read from its Parquet files in the lake.

    dlt's SQL client of a lake dataset sees that dataset's tables only, not `raw_meta`'s.
    """
    with pipeline.destination_client() as client:
        lake: Any = client
        folder = lake.pathlib.join(lake.bucket_path, META_DATASET, LOAD_RUNS_TABLE)
        if not lake.fs_client.isdir(folder):
            return []
        files = [
            path for path in lake.fs_client.ls(folder, detail=False) if path.endswith(".parquet")
        ]
        if not files:
            return []
        runs = pyarrow.dataset.dataset(files, filesystem=lake.fs_client, format="parquet")
        table = runs.to_table(
            columns=["load_ids"], filter=pyarrow.dataset.field("source") == source
        )
    return [(load_ids,) for load_ids in table.column("load_ids").to_pylist()]


def _files_of_loads(pipeline: dlt.Pipeline, load_ids: list[str]) -> list[str]:
    """Files (`<resource>/<path>`) whose reading the loads `load_ids` committed to the state.

    The file sources keep every file read in their resource state, and each load that changed
    the state stored a copy of it in the destination: a file is one of a load's when that
    load's copy records it and the copy before did not (or recorded another version).
    """
    wanted = set(load_ids)
    with pipeline.sql_client() as client:
        state_table = client.make_qualified_table_name("_dlt_pipeline_state")
        loads_table = client.make_qualified_table_name("_dlt_loads")
        try:
            states = client.execute_sql(
                f"select s._dlt_load_id, s.state from {state_table} as s "
                f"join {loads_table} as l on l.load_id = s._dlt_load_id "
                "where l.status = 0 and s.pipeline_name = %s order by s._dlt_load_id",
                pipeline.pipeline_name,
            )
        except DestinationUndefinedEntity:
            return []
    files: list[str] = []
    previous: dict[str, str] = {}
    for load_id, compressed in states or []:
        current = {
            f"{resource}/{path}": version
            for source_state in decompress_state(compressed).get("sources", {}).values()
            for resource, resource_state in source_state.get("resources", {}).items()
            for path, version in resource_state.get("files", {}).items()
        }
        if load_id in wanted:
            files += [name for name, version in current.items() if previous.get(name) != version]
        previous = current
    return files


@dataclass
class _PipelineRun:
    load_ids: list[str]
    rows: dict[str, int]
    files: list[str]
    step_seconds: dict[str, float]


def _run_pipeline(name: str, settings: _Settings, destination: Destination) -> _PipelineRun:
    """Load source `name`; return the load ids, rows per table and files it logs, and the
    seconds of dlt's steps.

    Besides this run's own loads these are the loads no earlier run logged (a killed run's),
    their rows counted in the destination: the extract counts of a killed run died with it.
    """
    pipeline = _pipeline(name, f"raw_{name}", settings, destination)
    _complete_pending_loads(pipeline)
    if _destination_lost_state(pipeline):
        # the dataset was dropped or the database recreated: what the local state says was
        # read is not there any more, so read everything again
        pipeline = pipeline.drop()
    recovered_ids = _unlogged_loads(pipeline, name)
    rows = _rows_of_loads(pipeline, recovered_ids) if recovered_ids else {}
    recovered_files = _files_of_loads(pipeline, recovered_ids) if recovered_ids else []
    context = _source_context(settings, pipeline)
    # Bulk files rather than dlt's default row inserts, which took over half of an API load's
    # time in DuckDB: DuckDB reads Parquet natively, PostgreSQL by ADBC (postgres_destination).
    info = pipeline.run(SOURCES[name].build(context), loader_file_format="parquet")
    replace_redelivered_files(pipeline, [*recovered_ids, *info.loads_ids])
    SOURCES[name].finish_load(context)
    # rows as extracted, as each source read them
    extract_info = pipeline.last_trace.last_extract_info
    for step_metrics in extract_info.metrics.values() if extract_info else []:
        for metrics in step_metrics:
            for table, table_metrics in metrics["table_metrics"].items():
                # an empty table dlt only creates (the quarantine) holds no rows to report
                if not table.startswith("_dlt") and table_metrics.items_count:
                    rows[table] = rows.get(table, 0) + table_metrics.items_count
    step_seconds = {
        step.step: round((step.finished_at - step.started_at).total_seconds(), 3)
        for step in pipeline.last_trace.steps
        if step.step in ("extract", "normalize", "load") and step.finished_at
    }
    return _PipelineRun([*recovered_ids, *info.loads_ids], rows, recovered_files, step_seconds)


def _is_interruption(error: BaseException) -> bool:
    """Whether Ctrl-C or SIGTERM is behind `error`, an `Exception` that would otherwise count
    as a failed source: dlt wraps the KeyboardInterrupt that stops a step in
    `PipelineStepFailed`, DuckDB turns one during a query into an error of its own."""
    if stop_signal_received():
        return True
    return any(
        isinstance(cause, KeyboardInterrupt | duckdb.InterruptException) for cause in _causes(error)
    )


def _load_source(name: str, settings: _Settings, destination: Destination) -> SourceResult:
    """Load one source; a Ctrl-C or SIGTERM is noted in the result, for `load` to stop on."""
    stats: RunStats = start_stats()
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    error: str | None = None
    interrupted = False
    run = _PipelineRun([], {}, [], {})
    try:
        run = _run_pipeline(name, settings, destination)
    except KeyboardInterrupt:
        interrupted = True
    # a failing source is reported and the others still load
    except Exception as failure:
        interrupted = _is_interruption(failure)
        if not interrupted:
            error = describe_error(name, failure)
    if interrupted:
        error = "interrupted: the next load finishes it"
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
        load_ids=run.load_ids,
        rows=run.rows,
        files_read=[*run.files, *stats.files_read],
        quarantined=dict(stats.quarantined),
        started_at=started_at,
        finished_at=datetime.now(UTC),
        elapsed_seconds=round(time.perf_counter() - clock, 3),
        interrupted=interrupted,
        step_seconds=run.step_seconds,
    )


def _log_runs(
    run_id: str, results: list[SourceResult], settings: _Settings, destination: Destination
) -> None:
    """Append one `raw_meta.load_runs` row per source load, in a single small load."""
    pipeline = _pipeline(META_DATASET_NAME, META_DATASET, settings, destination)
    rows = [
        {
            "run_id": run_id,
            "source": result.name,
            "load_ids": json.dumps(result.load_ids),
            "started_at": result.started_at,
            "finished_at": result.finished_at,
            "elapsed_seconds": result.elapsed_seconds,
            "status": result.status,
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
    pipeline.run(
        rows,
        table_name=LOAD_RUNS_TABLE,
        write_disposition="append",
        columns=columns,
        # the lake's default would be JSON lines; its tables are Parquet, like the sources'
        loader_file_format="parquet" if settings.lands_files else None,
    )


def configure_dlt() -> None:
    """dlt's settings for every load of the warehouse's sources.

    - Arrow tables get `_dlt_load_id` like JSON rows do, so every raw row names its load.
    - Load packages are not compressed, and a package's files are deleted once it is loaded:
      they are written, loaded once and thrown away on this machine. Gzip took three quarters
      of dlt's normalize step for PostgreSQL's CSV (a year of web events at scale 1: 304 s of
      normalize for 18.5 million rows), and the loaded packages kept a second copy of every row
      in the pipelines folder (1.2 GB compressed for that year).
    """
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    dlt.config["data_writer.disable_compression"] = True
    dlt.config["load.delete_completed_jobs"] = True


def load(
    sources: Sequence[str] | None = None,
    *,
    data_dir: Path | None = None,
    destination: str | None = None,
    duckdb_path: Path | None = None,
    progress: ProgressCallback | None = None,
    allow_shrink: bool = False,
) -> LoadReport:
    """Load `sources` (default: all in `loaders.registry`) one after another, report on each.

    `data_dir`, `destination` and `duckdb_path` default as `warehouse.settings` says: env
    `WAREHOUSE_DATA_DIR` or the project's `data/`, env `WAREHOUSE_DESTINATION` or "duckdb", env
    `WAREHOUSE_DUCKDB_PATH` or `<data_dir>/warehouse.duckdb`. Raises `LoaderError` before
    loading anything for an unknown source or destination and for a DuckDB file another process
    holds; a source that fails is reported in its `SourceResult` while the others still load. A
    package a killed run left behind is loaded first; its load id, rows and files count in that
    source's result, as do those of any load in the source's dataset that no
    `raw_meta.load_runs` row names yet (a run killed before it wrote its log). Every source load
    appends a row to `raw_meta.load_runs`, written together when the run ends (also when it is
    interrupted by an exception).
    Ctrl-C or SIGTERM stops the whole run, not just the source loading then: that source gets an
    "interrupted" row, the later ones do not start, and `LoadInterrupted` (a KeyboardInterrupt)
    says so.
    `allow_shrink` accepts a table loaded in full that lost more than its source's
    `max_shrink_share` of its rows (refused by default).
    """
    names = _check_source_names(sources)
    settings = replace(
        _resolve_settings(data_dir, destination, duckdb_path), allow_shrink=allow_shrink
    )
    if settings.destination == "duckdb":
        _check_duckdb_opens(settings.duckdb_path)
    _move_shared_layout_pipelines(settings.data_dir)
    configure_dlt()
    dest = _destination(settings)
    report = LoadReport(run_id=uuid.uuid4().hex, destination=settings.destination)
    signals = SignalWatch().start()
    try:
        for position, name in enumerate(names):
            if progress:
                progress(name, "loading")
            result = _load_source(name, settings, dest)
            report.results.append(result)
            remaining = names[position + 1 :]
            stop_signal = signals.received()
            # The whole run stops: the finished sources stay, the interrupted one's pending
            # package is loaded first next time (`_complete_pending_loads`). A signal dlt held
            # back until the source had finished stops the run before the next source.
            if result.interrupted or (stop_signal and remaining):
                raise LoadInterrupted.during(
                    stop_signal or signal.SIGINT,
                    name if result.interrupted else None,
                    [done.name for done in report.results if done.ok],
                    remaining,
                )
            if progress:
                total = sum(result.rows.values())
                status = "loaded" if result.ok else f"failed: {result.error}"
                progress(name, f"{status} ({total} rows, {result.elapsed_seconds:.1f} s)")
    finally:
        signals.stop()
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
