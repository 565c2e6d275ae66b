"""The Spark engine (`--target spark`): a Spark Connect server, and the lake's tables in it.

`spark_server` gives a command a Spark Connect address for as long as it runs:

- with `WAREHOUSE_SPARK_REMOTE=sc://host:port` it is that server (a cluster is configuration),
  and nothing starts;
- otherwise a local server from pyspark's own wheel (`SparkConnectServer` in local mode, a
  Derby metastore) starts under `<data>/spark/`, bound to 127.0.0.1 on a free port, and stops
  with the command. It runs through `warehouse.processes.start_child`, like dbt: in a process
  group of its own (a terminal's Ctrl-C reaches the command, which stops the server and
  waits for it) and killed by Linux if the command is killed (SIGKILL included), so no JVM
  outlives the command. It is started with `spark-submit` rather than
  `sbin/start-connect-server.sh`, which daemonises the JVM away from its parent.

Only one command per data folder runs it (the warehouse lock), which is also what the embedded
Derby metastore needs: Derby allows one JVM per database.

`register_lake` makes the Parquet the loaders landed in the lake (`WAREHOUSE_LAKE_URL`) readable
by dbt: each raw table and dlt's `_dlt_loads` becomes an external table in the schema the
DuckDB destination would have used (`raw_shop.orders`), so the dbt sources resolve unchanged.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warehouse.errors import WarehouseError
from warehouse.processes import start_child, stop_process_group
from warehouse.settings import Paths, spark_settings, temporary_environment

MINIMUM_JAVA = 17
# A local server answers after 10-20 s on two cores; a slow machine gets some slack.
START_TIMEOUT_SECONDS = 180.0
REGISTER_THREADS = 4
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
INSTALL_HINT = "run `.tools/bin/uv sync --inexact --group spark` (`make test` installs it too)"
# dlt's bookkeeping in each dataset: the loads, read by the `completed_loads` macro. The other
# two (`_dlt_version`, `_dlt_pipeline_state`) are dlt's own business.
LOADS_TABLE = "_dlt_loads"
# dlt writes each entry of `_dlt_loads` as one JSON document (filesystem destination), not
# Parquet: its columns are declared, not inferred.
LOADS_COLUMNS = (
    "load_id string, schema_name string, status bigint, inserted_at timestamp, "
    "schema_version_hash string"
)


def check_installed() -> None:
    """Stop with one line when the `spark` dependency group is not installed."""
    missing = [
        package
        for package, module in (("pyspark", "pyspark"), ("dbt-spark", "dbt.adapters.spark"))
        if _find_spec(module) is None
    ]
    if missing:
        raise WarehouseError(
            f"Spark's packages are not installed ({', '.join(missing)})", hint=INSTALL_HINT
        )


def _find_spec(module: str) -> Any:
    try:
        return importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a missing parent package (dbt.adapters)
        return None


def java_executable() -> str:
    """The `java` Spark's launcher runs: `$JAVA_HOME/bin/java`, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise WarehouseError(
            f"Spark needs Java {MINIMUM_JAVA} or newer and there is no java"
            + (f" in JAVA_HOME={java_home}" if java_home else " on the PATH"),
            hint="install a JDK (Debian: apt-get install openjdk-17-jre-headless) or set "
            "WAREHOUSE_SPARK_REMOTE to a running Spark Connect server",
        )
    return java


def java_version(java: str) -> int:
    """The feature release of `java` (17 for 17.0.15, 8 for 1.8.0_402)."""
    try:
        completed = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise WarehouseError(f"cannot run {java} -version: {error}") from error
    found = re.search(r'version "(\d+)(?:\.(\d+))?', completed.stderr + completed.stdout)
    if found is None:
        raise WarehouseError(f"cannot read the version of {java}: {completed.stderr.strip()}")
    major, minor = int(found.group(1)), int(found.group(2) or 0)
    return minor if major == 1 else major


def check_java() -> str:
    """The java to run Spark with, or one line saying why there is none good enough."""
    java = java_executable()
    version = java_version(java)
    if version < MINIMUM_JAVA:
        raise WarehouseError(
            f"Spark needs Java {MINIMUM_JAVA} or newer; {java} is Java {version}",
            hint="install a newer JDK and put it first on the PATH (or set JAVA_HOME), or set "
            "WAREHOUSE_SPARK_REMOTE to a running Spark Connect server",
        )
    return java


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


@dataclass(frozen=True)
class LocalServer:
    """Where a local Spark Connect server keeps its state, under `<data>/spark/`."""

    root: Path

    @property
    def metastore(self) -> Path:
        return self.root / "metastore"

    @property
    def warehouse(self) -> Path:
        # the tables dbt creates (managed tables); the lake's raw tables stay in the lake
        return self.root / "warehouse"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.logs / "connect-server.log"

    @property
    def pid_file(self) -> Path:
        return self.run / "connect-server.pid"

    @property
    def database(self) -> Path:
        return self.metastore / "metastore_db"

    def discard_unfinished_metastore(self) -> None:
        """Remove a Derby database whose creation was killed halfway.

        Derby writes `service.properties` when it has created a database; a server killed
        before that (with its command) leaves a folder without it, which Derby refuses ever
        after (ERROR XBM0A), and which holds nothing yet.
        """
        if self.database.is_dir() and not (self.database / "service.properties").exists():
            shutil.rmtree(self.database)

    def command(self, port: int, driver_memory: str) -> list[str]:
        import pyspark

        spark_home = Path(pyspark.__file__).parent
        conf = {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
            "spark.sql.catalogImplementation": "hive",
            "spark.sql.warehouse.dir": str(self.warehouse),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={self.database};create=true"
            ),
            "spark.ui.enabled": "false",
            "spark.driver.memory": driver_memory,
            # two cores shared with dbt and the loaders: Spark's default of 200 shuffle
            # partitions makes hundreds of tiny tasks and files per model of a small warehouse
            "spark.sql.shuffle.partitions": "4",
            # the lake's tables gain columns (a source's schema change): read every file's
            # schema, not the first one's
            "spark.sql.parquet.mergeSchema": "true",
            "spark.sql.session.timeZone": "UTC",
        }
        command = [
            str(spark_home / "bin" / "spark-submit"),
            "--master",
            "local[*]",
            "--class",
            SERVER_CLASS,
            "--name",
            "Larkspur Spark Connect",
        ]
        for key, value in conf.items():
            command += ["--conf", f"{key}={value}"]
        return command

    def environment(self, java: str) -> dict[str, str]:
        import pyspark

        return {
            **os.environ,
            "SPARK_HOME": str(Path(pyspark.__file__).parent),
            "JAVA_HOME": str(Path(java).resolve().parent.parent),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(self.logs),
            "SPARK_PID_DIR": str(self.run),
            # Derby writes derby.log into its system home, else into the working directory
            "SPARK_SUBMIT_OPTS": f"-Dderby.system.home={self.metastore}",
        }


class SparkServer:
    """The Spark Connect server of one command: its address at once, its readiness on demand.

    A local server takes 10-20 s to answer and as long again to open its metastore on the first
    catalog query. `launch` starts it and returns: the command loads meanwhile, and a thread
    waits for it and runs that first query. `remote` waits for all of it.
    """

    def __init__(self, remote: str, process: subprocess.Popen[str] | None = None) -> None:
        self.address = remote
        self.process = process
        self.layout: LocalServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        if process is None:
            self._ready.set()

    @classmethod
    def launch(cls, paths: Paths, driver_memory: str) -> SparkServer:
        """Start a local server under `<data>/spark/` (from the main thread: see
        `warehouse.processes.start_child`) and warm it up in the background."""
        check_installed()
        java = check_java()
        layout = LocalServer(paths.spark_dir)
        for folder in (layout.metastore, layout.warehouse, layout.logs, layout.run):
            folder.mkdir(parents=True, exist_ok=True)
        layout.discard_unfinished_metastore()
        port = free_port()
        with layout.log_file.open("w", encoding="utf-8") as log:
            process = start_child(
                layout.command(port, driver_memory),
                cwd=layout.root,
                env=layout.environment(java),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = cls(f"sc://127.0.0.1:{port}", process)
        server.layout = layout
        layout.pid_file.write_text(f"{process.pid}\n")
        # imported here, not in the thread: two threads importing pandas at once (pyspark's and
        # the loaders') leave one of them a partly initialised module
        import pyspark.sql.connect.session  # noqa: F401

        threading.Thread(target=server._warm_up, args=(port,), daemon=True).start()
        return server

    def _warm_up(self, port: int) -> None:
        try:
            self._wait_until_answering(port)
            with spark_session(self.address) as session:
                session.sql("show schemas").collect()
        except BaseException as error:
            self._error = error
        finally:
            self._ready.set()

    def _wait_until_answering(self, port: int) -> None:
        assert self.process is not None and self.layout is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not answers("127.0.0.1", port):
            if self.process.poll() is not None:
                raise WarehouseError(
                    f"the local Spark Connect server exited with code {self.process.returncode} "
                    f"before it answered: {_last_error(self.layout.log_file)}",
                    hint=f"its log is {self.layout.log_file}",
                )
            if time.monotonic() > deadline:
                raise WarehouseError(
                    f"the local Spark Connect server did not answer on 127.0.0.1:{port} within "
                    f"{START_TIMEOUT_SECONDS:.0f} s",
                    hint=f"its log is {self.layout.log_file}",
                )
            time.sleep(0.5)

    @property
    def remote(self) -> str:
        """The address, once the server answers queries; raises what kept it from starting."""
        # a timed wait, so that Ctrl-C and SIGTERM are delivered while it waits
        while not self._ready.wait(0.5):
            pass
        if isinstance(self._error, WarehouseError):
            raise self._error
        if self._error is not None:
            log = f"its log is {self.layout.log_file}" if self.layout else None
            raise WarehouseError(
                f"the Spark Connect server {self.address} does not answer queries: "
                f"{_first_line(self._error)}",
                hint=log,
            ) from self._error
        return self.address

    def stop(self) -> None:
        """Stop a local server and wait for it; nothing for a server of the user's."""
        if self.process is None or self.layout is None:
            return
        # SIGTERM runs the JVM's shutdown hooks (Spark stops its context, Derby closes the
        # metastore); a server that has not stopped within the grace period is killed
        stop_process_group(self.process)
        self.layout.pid_file.unlink(missing_ok=True)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _last_error(log_file: Path) -> str:
    lines = [line.strip() for line in log_file.read_text(errors="replace").splitlines()]
    errors = [line for line in lines if "Exception" in line or "Error" in line]
    return (errors or lines or ["no output"])[-1][:300]


@contextlib.contextmanager
def spark_server(paths: Paths) -> Iterator[SparkServer]:
    """The command's Spark Connect server for the block, its address exported as `SPARK_REMOTE`.

    dbt-spark's session method and pyspark's `SparkSession.builder` both read `SPARK_REMOTE`,
    so that every query of the block (dbt's subprocesses too) goes to this server; read
    `.remote` before the first. A local server started here is stopped when the block ends,
    however it ends; with `WAREHOUSE_SPARK_REMOTE` nothing starts or stops.
    """
    global _active_server
    if _active_server is not None:
        # an outer block of this command holds a server already (the demo's, around its build)
        yield _active_server
        return
    settings = spark_settings()
    if settings.remote is not None:
        check_installed()
        server = SparkServer(settings.remote)
    else:
        server = SparkServer.launch(paths, settings.driver_memory)
    warnings = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), QUIET_WARNINGS]))
    _active_server = server
    try:
        with temporary_environment({"SPARK_REMOTE": server.address, "PYTHONWARNINGS": warnings}):
            yield server
    finally:
        _active_server = None
        server.stop()


_active_server: SparkServer | None = None

# dbt-spark's session method asks for Hive support, a static setting a Connect client cannot set
# (the server has it already): pyspark warns once per connection, dbt opens one per thread.
QUIET_WARNINGS = "ignore:Failed to set spark.sql.catalogImplementation:UserWarning"


@contextlib.contextmanager
def spark_session(remote: str) -> Iterator[Any]:
    """A pyspark Connect session on `remote`, closed after the block."""
    from pyspark.sql import SparkSession

    # pyspark releases each finished query in the background; those still queued when the
    # session closes fail with a warning per query (a JSON record each), though nothing is left
    # to release on a closed session. Its errors still show.
    logging.getLogger("pyspark.sql.connect.logging").setLevel(logging.ERROR)
    # a session of its own (not the process's shared one), so that stopping it stops no other
    session = SparkSession.builder.remote(remote).create()
    try:
        yield session
    finally:
        session.stop()


@dataclass
class Registration:
    """What `register_lake` did: the tables per schema it (re)created, and those it dropped."""

    tables: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    @property
    def table_count(self) -> int:
        return sum(len(names) for names in self.tables.values())


def lake_tables(lake_url: str, datasets: list[str]) -> dict[str, list[str]]:
    """The tables of each dataset in the lake: folders under `<lake>/<dataset>/` that hold a
    Parquet file, and `_dlt_loads` once it holds a load.

    dlt creates a table's folder when the first file for it arrives; a table a source declared
    but never sent rows to has none, and the `completed_loads` macro stands in for it.
    """
    from fsspec.core import url_to_fs

    filesystem, root = url_to_fs(lake_url)
    found: dict[str, list[str]] = {}
    for dataset in datasets:
        base = f"{root.rstrip('/')}/{dataset}"
        if not filesystem.isdir(base):
            continue
        tables = []
        for folder in sorted(filesystem.ls(base, detail=False)):
            name = folder.rstrip("/").rsplit("/", 1)[-1]
            if name.startswith("_dlt") and name != LOADS_TABLE:
                continue
            pattern = "*.jsonl" if name == LOADS_TABLE else "*.parquet"
            if filesystem.isdir(folder) and filesystem.glob(f"{folder.rstrip('/')}/{pattern}"):
                tables.append(name)
        found[dataset] = tables
    return found


def spark_location(lake_url: str, dataset: str, table: str) -> str:
    """The table's folder as Spark names it: a `file:` URI for a local lake; other URLs as
    they are (the server needs the Hadoop connector of their scheme, e.g. s3a:// for S3)."""
    if "://" in lake_url:
        return f"{lake_url.rstrip('/')}/{dataset}/{table}"
    return (Path(lake_url) / dataset / table).as_uri()


def register_lake(session: Any, lake_url: str, datasets: list[str]) -> Registration:
    """(Re)create an external table for every table of `datasets` in the lake.

    Idempotent: each table is dropped (an external table's files stay) and created again, so
    that a later load's new files and new columns are read, and a table whose folder is gone
    is dropped. Re-creating rather than `REFRESH TABLE`: the metastore keeps the Parquet
    schema inferred at creation, and a refresh would not add a column a later load brought.
    """
    from pyspark.errors import PySparkException

    try:
        return _register(session, lake_url, datasets)
    except PySparkException as error:
        raise WarehouseError(
            f"Spark could not register the lake's tables: {_first_line(error)}",
            hint=f"the lake is {lake_url}; the server's log says more",
        ) from error


def _register(session: Any, lake_url: str, datasets: list[str]) -> Registration:
    registration = Registration()
    found = lake_tables(lake_url, datasets)
    for dataset in found:
        session.sql(f"create schema if not exists `{dataset}`")
    # One statement waits mostly on the server (listing files, reading Parquet footers): a few
    # at a time take a third of the time one after another does on two cores.
    with ThreadPoolExecutor(max_workers=REGISTER_THREADS) as pool:
        list(
            pool.map(
                lambda pair: _create_table(session, lake_url, *pair),
                [(dataset, table) for dataset, tables in found.items() for table in tables],
            )
        )
    for dataset, tables in found.items():
        existing = {
            row.tableName
            for row in session.sql(f"show tables in `{dataset}`").collect()
            if not row.isTemporary
        }
        for table in sorted(existing - set(tables)):
            # only tables the lake had: a model or anything else created there stays
            if _is_external(session, dataset, table):
                session.sql(f"drop table if exists `{dataset}`.`{table}`")
                registration.dropped.append(f"{dataset}.{table}")
        registration.tables[dataset] = tables
    return registration


def _create_table(session: Any, lake_url: str, dataset: str, table: str) -> None:
    location = spark_location(lake_url, dataset, table)
    qualified = f"`{dataset}`.`{table}`"
    # Hive tables have no `create or replace`; the warehouse lock keeps other commands of this
    # data folder from reading in between
    session.sql(f"drop table if exists {qualified}")
    if table == LOADS_TABLE:
        session.sql(f"create table {qualified} ({LOADS_COLUMNS}) using json location '{location}'")
    else:
        # only dlt's Parquet: a stray file in the folder must not fail every read
        session.sql(
            f"create table {qualified} using parquet "
            f"options (pathGlobFilter '*.parquet') location '{location}'"
        )


def _is_external(session: Any, dataset: str, table: str) -> bool:
    rows = session.sql(f"describe table extended `{dataset}`.`{table}`").collect()
    return any(row[0] == "Type" and str(row[1]).upper() == "EXTERNAL" for row in rows)


def table_counts(session: Any) -> dict[str, int]:
    """Tables and views per schema in the Spark catalog, for the demo's summary."""
    counts: dict[str, int] = {}
    for row in session.sql("show schemas").collect():
        schema = row[0]
        tables = session.sql(f"show tables in `{schema}`").collect()
        relations = [table for table in tables if not table.isTemporary]
        if relations:
            counts[schema] = len(relations)
    return counts


def install_pii_hash_key(session: Any) -> bool:
    """Store `WAREHOUSE_PII_HASH_KEY` in `pii_keys.hash_key`, where `hash_pii()` reads it.

    As on PostgreSQL (`warehouse.postgres.install_pii_hash_key`) the key travels as a query
    parameter, never in SQL text, and a key already in place is kept: a new key would change
    every hash. Returns whether a key was set; without the variable nothing happens, and the
    build's on-run-start (macros/ensure_pii_hash_key.sql) puts the development key in place.
    """
    from warehouse.postgres import PII_KEY_ENV, PII_KEY_SCHEMA, PII_KEY_TABLE

    key = os.environ.get(PII_KEY_ENV)
    if not key:
        return False
    table = f"`{PII_KEY_SCHEMA}`.`{PII_KEY_TABLE}`"
    session.sql(f"create schema if not exists `{PII_KEY_SCHEMA}`")
    session.sql(f"create table if not exists {table} (hash_key string) using parquet")
    if not session.sql(f"select 1 from {table} limit 1").collect():
        session.sql(f"insert into {table} values (:key)", args={"key": key})
    return True
