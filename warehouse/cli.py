"""`warehouse`: simulate the demo company, load its systems, build and document the warehouse."""

from __future__ import annotations

import functools
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import typer
from rich.console import Console
from rich.table import Table

from warehouse.dbt import DbtResult, build_arguments, run_dbt
from warehouse.errors import WarehouseError
from warehouse.settings import (
    Paths,
    apply_environment,
    destination_name,
    duckdb_memory_limit,
    resolve_paths,
    spark_settings,
    temporary_environment,
)

app = typer.Typer(
    help=__doc__,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
console = Console()
error_console = Console(stderr=True)

# Eight months: enough history for the lapse notebook (monthly snapshots, 90-day windows) to
# train and test on; at scale 0.01 the extra months cost little next to the fixed costs.
DEFAULT_DEMO_DAYS = 240
DEFAULT_SCALE = 0.01
DEFAULT_API_PORT = 8765

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="WAREHOUSE_DATA_DIR",
        help="Folder of the simulated sources and the DuckDB warehouse (default: the "
        "project's data/).",
        show_default=False,
    ),
]


class DbtTarget(StrEnum):
    """A target of profiles.yml: where dbt builds."""

    dev = "dev"
    ci = "ci"
    postgres = "postgres"
    spark = "spark"


class WarehouseType(StrEnum):
    """The warehouse `demo` builds: which database the loaders and dbt write to."""

    duckdb = "duckdb"
    postgres = "postgres"
    spark = "spark"


TargetOption = Annotated[
    DbtTarget | None,
    typer.Option(
        "--target",
        help="dbt target in profiles.yml: dev (DuckDB, default), ci (DuckDB in a scratch file), "
        "postgres or spark (a local Spark Connect server, or WAREHOUSE_SPARK_REMOTE's).",
        show_default=False,
    ),
]


def target_name(target: DbtTarget | None) -> str | None:
    """The profile's target name dbt is given (None: the profile's default)."""
    return target.value if target else None


def instance(data_dir: Path | None, *, creates: bool = False, writes: bool = False) -> Paths:
    """Resolve and check this run's folders and settings, then export them for dlt and dbt.

    The data folder must exist (a command that `creates` one makes it) and, for a command that
    `writes`, take new files; `WAREHOUSE_DUCKDB_MEMORY_LIMIT` must be a size DuckDB can work
    with. Each problem is one `WarehouseError` before the command does anything.
    """
    paths = resolve_paths(data_dir)
    check_data_folder(paths.data_dir, creates=creates, writes=writes or creates)
    duckdb_memory_limit()
    apply_environment(paths)
    return paths


def check_data_folder(folder: Path, *, creates: bool, writes: bool) -> None:
    """Stop with one line when the data folder is missing, is a file, or cannot take files."""
    choose = "choose another with --data-dir or WAREHOUSE_DATA_DIR"
    if folder.exists() and not folder.is_dir():
        raise WarehouseError(f"the data folder {folder} is a file, not a folder", hint=choose)
    if not folder.exists():
        if not creates:
            raise WarehouseError(
                f"there is no data folder at {folder}",
                hint="`warehouse simulate` or `warehouse demo` starts one; or " + choose,
            )
        try:
            folder.mkdir(parents=True)
        except OSError as error:
            raise WarehouseError(
                f"cannot create the data folder {folder} ({error.strerror})", hint=choose
            ) from error
    if writes:
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise WarehouseError(
                f"cannot write in the data folder {folder} ({error.strerror})", hint=choose
            ) from error


@contextmanager
def operation(paths: Paths, command: str) -> Iterator[None]:
    """Run `command` ("warehouse load") as the warehouse's one writer, stoppable in one line.

    It holds the data folder's lock (`warehouse.lock`): a second writing command says the
    warehouse is busy instead of failing deep inside dlt or dbt. Ctrl-C and SIGTERM stop it as a
    whole (dbt included) and end it with one "interrupted: ..." line and exit code 128 + signal.
    """
    from warehouse.lock import warehouse_lock
    from warehouse.processes import sigterm_interrupts

    with sigterm_interrupts():
        try:
            with warehouse_lock(paths.data_dir, command):
                yield
        except KeyboardInterrupt as interrupt:
            report_interruption(command, interrupt)


Command = TypeVar("Command", bound=Callable[..., Any])


def writes_warehouse(name: str, *, creates_data_dir: bool = False) -> Callable[[Command], Command]:
    """Run the command `warehouse <name>` as an `operation` on its `--data-dir`, once the data
    folder passed the checks the command makes (`instance`)."""

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            paths = instance(kwargs.get("data_dir"), creates=creates_data_dir, writes=True)
            with operation(paths, f"warehouse {name}"):
                return command(*args, **kwargs)

        return cast(Command, run)

    return decorate


@contextmanager
def local_api_server(paths: Paths, port: int = 0) -> Iterator[str]:
    """Serve the simulated REST APIs for the duration of a load and point the loaders at it.

    The server gets a fresh random token for this run alone, and the loaders get its address
    and token through dlt's environment-variable configuration.
    """
    from loaders.registry import api_source_names
    from simulator.api_server import ApiServer

    token = secrets.token_urlsafe(24)
    server = ApiServer(paths.data_dir, port=port, token=token)
    overrides = {}
    for name in api_source_names():
        overrides[f"SOURCES__{name.upper()}__BASE_URL"] = f"{server.base_url}/{name}/v1"
        overrides[f"SOURCES__{name.upper()}__TOKEN"] = token
    server.start()
    try:
        with temporary_environment(overrides):
            yield server.base_url
    finally:
        server.stop()


@app.command()
@writes_warehouse("simulate", creates_data_dir=True)
def simulate(
    days: Annotated[int, typer.Option(min=1, help="Days to add after the last simulated one.")] = 1,
    scale: Annotated[
        float | None, typer.Option(help=f"Scale factor (default {DEFAULT_SCALE}).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default 42).")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Simulate the demo company's systems for more days (history first, then day by day)."""
    from simulator import simulate as run_simulation

    paths = instance(data_dir, creates=True)
    with console.status(f"Simulating {days} day(s) of Larkspur..."):
        # None leaves the choice to the simulator; 0 is a value, refused or used there
        result = run_simulation(paths.data_dir, days, scale=scale, seed=seed)
    console.print(
        f"Simulated {result.first_day} to {result.last_day} "
        f"(seed {result.seed}, scale {result.scale}) in {result.elapsed_seconds:.1f} s "
        f"into {result.sources_dir}"
    )


@app.command("serve-api")
def serve_api(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = DEFAULT_API_PORT,
    fault_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of requests answered with a fault.")
    ] = 0.0,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the simulated payments, ads and fx APIs on 127.0.0.1 until interrupted."""
    from simulator.api_server import ApiServer, FaultConfig

    paths = instance(data_dir)
    server = ApiServer(paths.data_dir, port=port, faults=FaultConfig(rate=fault_rate))
    console.print(f"Serving the demo APIs on {server.base_url} (Ctrl+C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("Stopped.")


@app.command()
@writes_warehouse("load")
def load(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Sources to load (default: all).", show_default=False)
    ] = None,
    destination: Annotated[
        str | None,
        typer.Option(
            help="duckdb (default), postgres, or spark (Parquet in the lake, WAREHOUSE_LAKE_URL, "
            "registered as tables of the Spark engine).",
            show_default=False,
        ),
    ] = None,
    local_api: Annotated[
        bool,
        typer.Option(help="Serve the simulated APIs during the load (not for real vendors)."),
    ] = False,
    allow_shrink: Annotated[
        bool,
        typer.Option(
            help="Accept a table loaded in full that lost more than its max_shrink_share of rows."
        ),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Load source systems into the warehouse's `raw_<source>` schemas with dlt."""
    paths = instance(data_dir, writes=True)
    if destination_name(destination) == "spark":
        from warehouse.spark import spark_server

        # the server starts while the sources load, and registers what did load, also when
        # another source failed
        with spark_server(paths):
            report = load_sources(paths, sources, "spark", local_api, allow_shrink=allow_shrink)
            print_load_report(report)
            register_lake_tables(paths)
    else:
        report = load_sources(paths, sources, destination, local_api, allow_shrink=allow_shrink)
        print_load_report(report)
    if not report.ok:
        raise typer.Exit(1)


def register_lake_tables(paths: Paths) -> None:
    """Register the lake's raw tables in the Spark catalog (`warehouse.spark.register_lake`)."""
    from loaders.registry import loader_datasets
    from warehouse.spark import register_lake, spark_server, spark_session

    datasets = [f"raw_{name}" for name in loader_datasets()]
    with spark_server(paths) as server, console.status("Registering the lake's tables in Spark"):
        remote = server.remote
        started = time.monotonic()
        with spark_session(remote) as session:
            registration = register_lake(session, paths.lake_url, datasets)
    console.print(
        f"Registered {registration.table_count} lake tables in {len(registration.tables)} "
        f"Spark schemas in {time.monotonic() - started:.1f} s"
        + (f"; dropped {', '.join(registration.dropped)}" if registration.dropped else "")
    )


def load_sources(
    paths: Paths,
    sources: list[str] | None,
    destination: str | None,
    local_api: bool,
    allow_shrink: bool = False,
):  # -> loaders.LoadReport; imported lazily so that `warehouse --help` stays fast
    from loaders import load as run_load
    from loaders.registry import api_source_names

    api_sources = api_source_names()
    wants_api = local_api and any(name in api_sources for name in (sources or api_sources))
    server = local_api_server(paths) if wants_api else nullcontext()
    with server, console.status("Loading sources...") as status:
        return run_load(
            sources,
            data_dir=paths.data_dir,
            destination=destination,
            duckdb_path=paths.duckdb_path,
            progress=lambda source, step: status.update(f"Loading {source}: {step}"),
            allow_shrink=allow_shrink,
        )


def print_load_report(report) -> None:
    table = Table(title="Load", title_justify="left")
    for column in ("source", "outcome", "rows", "files", "quarantined", "seconds"):
        table.add_column(column, justify="left" if column in {"source", "outcome"} else "right")
    for result in report.results:
        table.add_row(
            result.name,
            "[green]ok[/]" if result.ok else "[red]failed[/]",
            f"{sum(result.rows.values()):,}",
            f"{len(result.files_read):,}",
            f"{result.quarantined_rows:,}",
            f"{result.elapsed_seconds:.1f}",
        )
    console.print(table)
    for result in report.results:
        for (table_name, reason), count in sorted(result.quarantined.items()):
            console.print(f"  quarantined {result.name}.{table_name}: {count:,} ({reason})")
        if not result.ok:
            error_console.print(f"[red]{result.name} failed:[/] {result.error}")


@app.command()
@writes_warehouse("build")
def build(
    select: Annotated[
        str | None, typer.Option("--select", "-s", help="dbt node selection.", show_default=False)
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Rebuild incremental models from scratch.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help=(
                "Test every row and run the unit tests (the nightly check); a daily build "
                "tests the rows it wrote."
            ),
        ),
    ] = False,
    target: TargetOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run `dbt build`: seeds, models, snapshots and tests, in dependency order.

    Incremental models process the loads completed since their last run, and their data tests
    check the rows this build wrote; unit tests run with `--full` (which also tests every row)
    and `--full-refresh` (which rebuilds all).
    """
    paths = instance(data_dir, writes=True)
    result = build_warehouse(
        paths,
        select=select,
        full_refresh=full_refresh,
        full_check=full,
        target=target_name(target),
    )
    print_dbt_result("dbt build", result)
    if not result.ok:
        raise typer.Exit(1)


def build_warehouse(
    paths: Paths,
    *,
    select: str | None = None,
    full_refresh: bool = False,
    full_check: bool = False,
    target: str | None = None,
    quiet: bool = False,
) -> DbtResult:
    from warehouse.database import ensure_writable

    if target in (None, "dev", "ci"):
        ensure_writable(paths.duckdb_path)
    args = build_arguments(
        select=select, full_refresh=full_refresh, full_check=full_check, target=target
    )
    engine = nullcontext()
    if target == "spark":
        engine = spark_engine(paths)
    with engine:
        result = run_dbt(args, paths, target=target, quiet=quiet)
    # dbt itself only logs a selection of nothing and exits 0
    if select and result.ok and result.nodes_run == 0:
        raise WarehouseError(
            f"--select {select!r} matches no model, seed, snapshot or test, so nothing was "
            f"built: `.venv/bin/dbt ls --select {select}` lists what a selection matches"
        )
    return result


@contextmanager
def spark_engine(paths: Paths) -> Iterator[str]:
    """The Spark Connect server a dbt run on `--target spark` uses, with the PII key in place.

    dbt-spark's session method reads the server's address from SPARK_REMOTE, which
    `warehouse.spark.spark_server` sets for the block.
    """
    from warehouse.spark import install_pii_hash_key, spark_server, spark_session

    with spark_server(paths) as server:
        with spark_session(server.remote) as session:
            install_pii_hash_key(session)
        yield server.remote


def print_dbt_result(title: str, result: DbtResult) -> None:
    counts = result.status_counts
    passed = counts["success"] + counts["pass"]
    summary = (
        f"{title}: {passed} passed, {counts['warn']} warned, "
        f"{counts['error'] + counts['fail'] + counts['runtime error']} failed, "
        f"{counts['skipped']} skipped"
    )
    if result.elapsed_seconds is not None:
        summary += f" in {result.elapsed_seconds:.1f} s"
    console.print(summary if result.ok else f"[red]{summary}[/]")
    for failure in result.failures:
        error_console.print(f"  [red]{failure}[/]")


@app.command()
def docs(
    serve: Annotated[bool, typer.Option("--serve", help="Serve the site on 127.0.0.1.")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.")] = 8080,
    target: TargetOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Generate the docs site (dbt docs, data quality, bus matrix, ER diagrams, report pages) as
    static files."""
    paths = instance(data_dir, writes=True)
    from warehouse.docs_site import build_site, site_server

    # serving only reads the files: the lock is for generating them
    with operation(paths, "warehouse docs"):
        site = build_site(paths, target=target_name(target))
    console.print(f"Docs site: {site}")
    if serve:
        server = site_server(site.parent, port)
        console.print(f"Serving {site.parent} on http://127.0.0.1:{port}/ (Ctrl+C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("Stopped.")
        finally:
            server.server_close()


@app.command()
@writes_warehouse("demo", creates_data_dir=True)
def demo(
    days: Annotated[int, typer.Option(min=1, help="Days of history on a first run.")] = (
        DEFAULT_DEMO_DAYS
    ),
    scale: Annotated[float, typer.Option(help="Scale factor on a first run.")] = DEFAULT_SCALE,
    warehouse: Annotated[
        WarehouseType,
        typer.Option(
            "--warehouse",
            # `demo --target postgres` is how it was spelt before `--target` meant a dbt target
            "--target",
            help="Warehouse: duckdb (embedded), postgres (each step as its own role) or spark "
            "(the lake and a Spark Connect server).",
        ),
    ] = WarehouseType.duckdb,
    data_dir: DataDirOption = None,
) -> None:
    """All of it: simulate (first run only), load every source, build, document, summarise."""
    from simulator import simulate as run_simulation
    from warehouse.docs_site import build_site

    paths = instance(data_dir, creates=True)
    started = time.monotonic()
    if warehouse is WarehouseType.spark:
        # fail on a missing Java or package before minutes of simulation, not after
        from warehouse.spark import check_installed, check_java

        check_installed()
        if spark_settings().remote is None:
            check_java()
    state_file = paths.sources_dir / "simulator_state.json"
    if state_file.exists():
        console.print(
            f"Sources already simulated in {paths.sources_dir}; "
            "`warehouse simulate --days 1` advances them."
        )
    else:
        with console.status(f"Simulating {days} days of Larkspur at scale {scale}..."):
            simulation = run_simulation(paths.data_dir, days, scale=scale)
        console.print(
            f"Simulated {simulation.first_day} to {simulation.last_day} "
            f"in {simulation.elapsed_seconds:.1f} s"
        )

    # On PostgreSQL each step runs as its own least-privilege role.
    load_environment: dict[str, str] = {}
    build_environment: dict[str, str] = {}
    destination = dbt_target = postgres = None
    if warehouse is WarehouseType.postgres:
        from warehouse.postgres import prepare_postgres_warehouse

        postgres = prepare_postgres_warehouse()
        load_environment = postgres.loader_environment()
        build_environment = postgres.transformer_environment()
        destination = dbt_target = "postgres"

    if warehouse is WarehouseType.spark:
        demo_on_spark(paths, started)
        return

    with temporary_environment(load_environment):
        report = load_sources(paths, None, destination, local_api=True)
    print_load_report(report)
    if not report.ok:
        raise WarehouseError(
            "some sources failed to load", hint="see the messages above, fix, and run again"
        )

    with temporary_environment(build_environment):
        with console.status("Running dbt build (seeds, models, snapshots, tests)..."):
            build_result = build_warehouse(paths, full_check=True, target=dbt_target, quiet=True)
        print_dbt_result("dbt build", build_result)
        if not build_result.ok:
            raise WarehouseError(
                "dbt build failed",
                hint=f"details in {paths.dbt_log_dir / 'dbt.log'}; "
                "`warehouse build` shows them live",
            )
        with console.status("Generating the docs site..."):
            site = build_site(paths, target=dbt_target, quiet=True)
    elapsed = time.monotonic() - started
    if postgres is None:
        print_demo_summary(paths, site, elapsed)
    else:
        console.print(f"[bold]Done in {elapsed:.0f} s.[/]")
        console.print(
            f"Warehouse: PostgreSQL database {postgres.database} "
            f"(roles {', '.join(postgres.roles)})"
        )
        console.print(f"Docs: {site}")


@app.command("setup-postgres")
def setup_postgres(
    database: Annotated[
        str | None,
        typer.Option(help="Database name (default $WAREHOUSE_PG_DATABASE or larkspur)."),
    ] = None,
) -> None:
    """Create the PostgreSQL warehouse (if missing), its roles, schemas, grants and PII key."""
    from warehouse.postgres import prepare_postgres_warehouse

    postgres = prepare_postgres_warehouse(database)
    console.print(
        f"PostgreSQL warehouse {postgres.database} is ready: roles {', '.join(postgres.roles)}"
    )


def demo_on_spark(paths: Paths, started: float) -> None:
    """The demo's load and build on the Spark engine: the sources land in the lake, one Spark
    Connect server serves the registration and dbt, and stops with the demo.

    No docs site: its pages read the DuckDB warehouse (`warehouse docs` builds it there).
    """
    from warehouse.spark import spark_server, spark_session, table_counts

    # one server for the whole demo, starting while the sources load
    with spark_server(paths) as server:
        report = load_sources(paths, None, "spark", local_api=True)
        print_load_report(report)
        if not report.ok:
            raise WarehouseError(
                "some sources failed to load", hint="see the messages above, fix, and run again"
            )
        remote = server.remote
        register_lake_tables(paths)
        with console.status("Running dbt build on Spark (seeds, models, tests)..."):
            build_result = build_warehouse(paths, full_check=True, target="spark", quiet=True)
        print_dbt_result("dbt build", build_result)
        with spark_session(remote) as session:
            schemas = table_counts(session)
    console.print()
    console.print(f"[bold]Done in {time.monotonic() - started:.0f} s.[/]")
    console.print(f"Lake: {paths.lake_url}")
    where = "WAREHOUSE_SPARK_REMOTE" if spark_settings().remote else "a local server, stopped now"
    console.print(f"Spark: {remote} ({where}); metastore and tables in {paths.spark_dir}")
    console.print("Schemas: " + ", ".join(f"{schema} ({n})" for schema, n in schemas.items()))
    if not build_result.ok:
        raise WarehouseError(
            "dbt build failed on Spark",
            hint=f"details in {paths.dbt_log_dir / 'dbt.log'}; "
            "`warehouse build --target spark` shows them live",
        )


def print_demo_summary(paths: Paths, site: Path, elapsed: float) -> None:
    from warehouse.database import connect

    with connect(paths.duckdb_path) as connection:
        schemas = connection.execute(
            """
            select table_schema, count(*) as relations
            from information_schema.tables
            where table_catalog = current_database()
                -- dlt's scratch schemas for merges and the PII key are not for readers
                and table_schema not like '%\\_staging' escape '\\'
                and table_schema <> 'pii_keys'
            group by table_schema
            order by table_schema
            """
        ).fetchall()
    console.print()
    console.print(f"[bold]Done in {elapsed:.0f} s.[/]")
    console.print(f"Warehouse: {paths.duckdb_path}")
    console.print("Schemas: " + ", ".join(f"{schema} ({count})" for schema, count in schemas))
    console.print(f"Docs: {site}")
    console.print("Look at it:")
    console.print('  .venv/bin/warehouse query "select * from finance.fct_order_lines limit 10"')
    console.print("  .venv/bin/warehouse status")
    console.print("  .venv/bin/warehouse docs --serve     # http://127.0.0.1:8080/")


@app.command()
def status(data_dir: DataDirOption = None) -> None:
    """Last loads per source, row counts, freshness, and the last dbt results."""
    from warehouse.lock import explain_busy
    from warehouse.status import read_status

    paths = instance(data_dir)
    with explain_busy(paths.data_dir):
        current = read_status(paths)
    table = Table(title=f"Sources in {paths.duckdb_path}", title_justify="left")
    columns = ("source", "last load (UTC)", "age", "loads", "tables", "rows", "quarantined")
    for column in columns:
        table.add_column(
            column, justify="left" if column in {"source", "last load (UTC)"} else "right"
        )
    # the outcome of the source's latest `warehouse load`, also when it landed nothing
    table.add_column("last run")
    for source in current.sources:
        age = source.age_hours
        table.add_row(
            source.source,
            f"{source.last_load_at:%Y-%m-%d %H:%M}" if source.last_load_at else "never",
            "" if age is None else f"{age:.1f} h",
            str(source.completed_loads),
            str(source.tables),
            f"{source.rows:,}",
            f"{source.quarantined:,}",
            {
                "ok": "[green]ok[/]",
                "failed": "[red]failed[/]",
                "interrupted": "[yellow]interrupted[/]",
            }.get(source.last_run_status, "-"),
        )
    console.print(table)
    for source in current.sources:
        if source.last_run_status == "failed":
            error_console.print(
                f"[red]{source.source} failed last time:[/] {source.last_run_error}"
            )
    for failed_at, task, error in current.task_failures:
        error_console.print(f"[red]Airflow task failed {failed_at}:[/] {task}: {error}")
    console.print(
        "Rows in model tables: "
        + (", ".join(f"{schema} {rows:,}" for schema, rows in current.model_rows.items()) or "none")
    )
    if current.last_build_at:
        counts = ", ".join(f"{count} {name}" for name, count in sorted(current.last_build.items()))
        console.print(f"Last dbt build ({current.last_build_at}): {counts}")
    else:
        console.print("No dbt run yet: `warehouse build`.")


@app.command()
def airflow(
    port: Annotated[int, typer.Option(help="Port of the Airflow UI on 127.0.0.1.")] = 8081,
    data_dir: DataDirOption = None,
) -> None:
    """A local Apache Airflow on 127.0.0.1 running the DAG larkspur_daily until Ctrl-C.

    Its home (SQLite database, logs) is `<data folder>/airflow/home`; the DAG's first task
    advances the simulator to each run's day, so days arrive as Airflow runs them.
    """
    from warehouse.airflow_local import airflow_home, local_airflow, wait_until_stopped
    from warehouse.processes import sigterm_interrupts

    paths = instance(data_dir, creates=True)
    log_dir = paths.data_dir / "airflow" / "logs"
    console.print("Preparing Airflow (dbt parse, metadata database, pool)...")
    with sigterm_interrupts():
        try:
            with local_airflow(paths, port, log_dir) as processes:
                console.print(
                    f"Airflow on http://127.0.0.1:{port}/ (home {airflow_home(paths)}, logs "
                    f"{log_dir}); unpause larkspur_daily there. Ctrl+C stops."
                )
                wait_until_stopped(processes)
        except KeyboardInterrupt:
            console.print("Stopped Airflow.")


@app.command()
def query(
    sql: Annotated[
        str | None, typer.Argument(help="A SQL query to run read-only.", show_default=False)
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="Run the SQL in this file (e.g. a compiled analysis).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows to show at most (1 or more).")] = 50,
    data_dir: DataDirOption = None,
) -> None:
    """Run one read-only SQL query against the DuckDB warehouse and print the result.

    The warehouse is opened read-only with DuckDB's file access, extensions and settings
    switched off: the query reads the warehouse's tables and nothing else.
    """
    if (sql is None) == (file is None):
        raise WarehouseError("give either a SQL query or --file", hint="warehouse query --help")
    if limit < 1:
        raise WarehouseError(f"--limit must be 1 or more, not {limit}")
    if file is not None:
        try:
            sql = file.read_text()
        except OSError as error:
            raise WarehouseError(f"cannot read {file}: {error.strerror}") from error
    from warehouse.database import connect, run_query
    from warehouse.lock import explain_busy

    paths = instance(data_dir)
    with explain_busy(paths.data_dir), connect(paths.duckdb_path) as connection:
        columns, rows = run_query(connection, sql, limit)
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def metrics(ctx: typer.Context, data_dir: DataDirOption = None) -> None:
    """MetricFlow's `mf` on this warehouse, offline: `warehouse metrics query --metrics roas`.

    Everything after `metrics` goes to `mf` (`warehouse metrics --help` is mf's help); the
    semantic manifest is the last `warehouse build`'s.
    """
    from warehouse.metrics import run_metricflow

    paths = instance(data_dir)
    exit_code = run_metricflow(ctx.args or ["--help"], paths)
    if exit_code:
        raise typer.Exit(exit_code)


def main() -> None:
    """Entry point: the CLI, with user-facing failures as one line and a hint."""
    try:
        app()
    except WarehouseError as error:
        report_error(str(error), error.hint)
    except Exception as error:
        # The errors of the packages below the CLI that a user can meet and fix; imported
        # here so that `warehouse --help` does not pay for importing dlt.
        from loaders import LoaderError
        from simulator import SimulatorError
        from warehouse.database import is_lock_error

        if isinstance(error, SimulatorError | LoaderError):
            report_error(str(error), None)
        if is_lock_error(error):
            report_error(str(error).splitlines()[0], "another process holds the warehouse file")
        raise


def report_error(message: str, hint: str | None) -> None:
    # soft_wrap: one line stays one line also when rich writes to a file (80 columns there)
    error_console.print(f"[red]error:[/] {message}", soft_wrap=True)
    if hint:
        error_console.print(f"[dim]hint:[/] {hint}", soft_wrap=True)
    sys.exit(1)


def report_interruption(command: str, interrupt: KeyboardInterrupt) -> None:
    """One line for a command that Ctrl-C or SIGTERM stopped; exit code 128 + the signal."""
    from warehouse.processes import signal_of

    stopped_by = signal_of(interrupt)
    message = f"interrupted: {command} stopped by {stopped_by.name}"
    if detail := getattr(interrupt, "detail", ""):
        message += f"; {detail}"
    error_console.print(message, soft_wrap=True, markup=False, highlight=False)
    sys.exit(128 + stopped_by)
