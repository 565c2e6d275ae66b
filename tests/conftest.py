"""Fixtures shared by every test folder: telemetry off, service checks, the built warehouses."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from playwright.sync_api import Browser, sync_playwright
from psycopg2.extensions import connection as PgConnection

from loaders import LoadReport, load
from loaders.registry import api_source_names
from simulator.api_server import ApiServer
from warehouse.dbt import DbtResult, run_dbt
from warehouse.postgres import (
    PII_KEY_ENV,
    ROLE_PREFIX_ENV,
    PostgresWarehouse,
    admin_url,
    drop_roles,
    prepare_postgres_warehouse,
    role_names,
    throwaway_database,
)
from warehouse.settings import TELEMETRY_OFF, Paths, resolve_paths

for _key, _value in TELEMETRY_OFF.items():
    os.environ.setdefault(_key, _value)

# Small enough that simulate -> load -> dbt build takes well under two minutes on 2 cores, large
# enough that every defect kind and the scheduled schema change occur.
E2E_DAYS = 50
E2E_SCALE = 0.005
# The browser tests drive Debian's Chromium (`apt-get install chromium`), never one Playwright
# downloads.
# Which dbt invocation last wrote a row: it says how a row was written, not what it says, so
# tests that compare two builds leave it out.
WRITE_COLUMNS = ("_dbt_invocation_id",)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# first: pytest-xdist's own hook reads the groups to schedule by
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the tests that share a built warehouse on one pytest-xdist worker.

    `make test` runs on two workers (`-n auto --dist loadgroup`). A session-scoped fixture is set
    up once per worker, so two workers would each simulate, load and build the same warehouse.
    Every test file, and every project fixture that outlives a module (session or package
    scope), is a node; a test joins its file with those fixtures it uses; each connected set of
    files becomes one xdist group, which a single worker runs. Files that share none still
    spread over both workers; a module-scoped fixture is set up once per file anyway.
    """
    parents: dict[str, str] = {}

    def root(node: str) -> str:
        while parents.setdefault(node, node) != node:
            parents[node] = parents[parents[node]]
            node = parents[node]
        return node

    for item in items:
        test_file = item.nodeid.split("::", 1)[0]
        # pytest's public API names the fixtures a test uses, not where they are defined
        for name, definitions in item._fixtureinfo.name2fixturedefs.items():
            # the last definition is the one the test gets; earlier ones are those it overrides
            definition = definitions[-1]
            # baseid is "" for pytest's and plugins' own fixtures (tmp_path_factory, ...)
            if definition.scope in {"session", "package"} and definition.baseid:
                parents[root(f"{definition.baseid}::{name}")] = root(test_file)
    group_of = {item.nodeid: root(item.nodeid.split("::", 1)[0]) for item in items}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(group_of[item.nodeid]))
    # The groups that run whole pipelines (e2e tests) go first, then the others by size, so that
    # no worker is left running one long group at the end while the other waits (`make test`
    # passes --no-loadscope-reorder, which keeps this order instead of sorting by test count).
    heavy = {group_of[item.nodeid] for item in items if item.get_closest_marker("e2e")}
    size = Counter(group_of.values())
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        first_index.setdefault(group_of[item.nodeid], index)
    items.sort(
        key=lambda item: (
            group_of[item.nodeid] not in heavy,
            -size[group_of[item.nodeid]],
            first_index[group_of[item.nodeid]],
        )
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium; skipped (failed on CI) where it is not installed."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if services_required():
            pytest.fail(f"{reason}; CI requires it")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def services_required() -> bool:
    """On CI the local services are part of the contract: missing ones fail instead of skip."""
    return os.environ.get("WAREHOUSE_REQUIRE_SERVICES") == "1"


def require_service(name: str, host: str, port: int) -> None:
    """Skip (on a laptop) or fail (on CI) when a service does not answer on host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as error:
        message = f"{name} is not reachable on {host}:{port} ({error})"
    if services_required():
        pytest.fail(f"{message}; CI requires it")
    pytest.skip(f"{message}; start it to run these tests")


@dataclass(frozen=True)
class BuiltWarehouse:
    """A warehouse that `warehouse demo` simulated, loaded, built and documented."""

    paths: Paths
    returncode: int
    output: str


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """Run the real `warehouse demo` command once per session, in a throw-away data folder."""
    data_dir = tmp_path_factory.mktemp("warehouse")
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    command = [
        sys.executable,
        "-m",
        "warehouse",
        "demo",
        "--days",
        str(E2E_DAYS),
        "--scale",
        str(E2E_SCALE),
        "--data-dir",
        str(data_dir),
    ]
    environment = {**os.environ, "WAREHOUSE_DUCKDB_PATH": str(paths.duckdb_path), "COLUMNS": "120"}
    completed = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False, timeout=900
    )
    return BuiltWarehouse(
        paths=paths, returncode=completed.returncode, output=completed.stdout + completed.stderr
    )


@dataclass(frozen=True)
class PostgresBuild:
    """The `built_warehouse` sources loaded into a throw-away PostgreSQL database and built there.

    dlt loads as the loader role and dbt builds as the transformer role, each with a password
    known only to this session, so the build itself proves the least-privilege setup suffices.
    """

    warehouse: PostgresWarehouse
    paths: Paths
    load_report: LoadReport
    load_log: str
    build: DbtResult
    passwords: dict[str, str]
    pii_hash_key: str

    def connect(self, role: str | None = None) -> PgConnection:
        """A connection as ``role`` (one of the warehouse's roles) or as the administrator."""
        if role is None:
            return psycopg2.connect(self.warehouse.admin_url, dbname=self.warehouse.database)
        kind = role.removeprefix(self.prefix)
        return psycopg2.connect(self.warehouse.url(role, self.passwords[kind]))

    @property
    def prefix(self) -> str:
        return self.warehouse.roles.reporter.removesuffix("reporter")


def load_as_loader(paths: Paths, warehouse: PostgresWarehouse) -> tuple[LoadReport, str]:
    """Load every source into PostgreSQL as the loader; return the report and everything logged."""
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with (
            ApiServer(paths.data_dir, port=0) as server,
            pytest.MonkeyPatch.context() as monkeypatch,
            contextlib.redirect_stdout(log),
            contextlib.redirect_stderr(log),
        ):
            for name in api_source_names():
                monkeypatch.setenv(
                    f"SOURCES__{name.upper()}__BASE_URL", f"{server.base_url}/{name}/v1"
                )
                monkeypatch.setenv(f"SOURCES__{name.upper()}__TOKEN", "demo-token")
            for variable, value in warehouse.loader_environment().items():
                monkeypatch.setenv(variable, value)
            report = load(data_dir=paths.data_dir, destination="postgres")
    finally:
        root.removeHandler(handler)
    return report, log.getvalue()


@pytest.fixture(scope="session")
def postgres_build(
    built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresBuild]:
    """Set up roles in a throw-away database, load `built_warehouse`'s sources, dbt build there.

    The one PostgreSQL build of a test session: the database and the session's roles are
    dropped at the end, also when something failed.
    """
    require_service("PostgreSQL", "127.0.0.1", 5432)
    if built_warehouse.returncode != 0:
        pytest.fail(f"the DuckDB demo build failed:\n{built_warehouse.output[-2000:]}")
    data_dir = tmp_path_factory.mktemp("postgres")
    # a fresh data folder: the DuckDB pipelines' incremental state must not leak into this load
    shutil.copytree(built_warehouse.paths.sources_dir, data_dir / "sources")
    paths = resolve_paths(data_dir, data_dir / "unused.duckdb")
    prefix = f"lk{uuid.uuid4().hex[:8]}_"
    passwords = {kind: secrets.token_urlsafe(18) for kind in ("loader", "transformer", "reporter")}
    pii_hash_key = secrets.token_urlsafe(24)
    url = admin_url()
    try:
        with throwaway_database(url, "larkspur_test") as database:
            with pytest.MonkeyPatch.context() as monkeypatch:
                monkeypatch.setenv(ROLE_PREFIX_ENV, prefix)
                monkeypatch.setenv(PII_KEY_ENV, pii_hash_key)
                for kind, password in passwords.items():
                    monkeypatch.setenv(f"WAREHOUSE_PG_{kind.upper()}_PASSWORD", password)
                warehouse = prepare_postgres_warehouse(database, url)
                load_report, load_log = load_as_loader(paths, warehouse)
                for variable, value in warehouse.transformer_environment().items():
                    monkeypatch.setenv(variable, value)
                build = run_dbt(["build"], paths, target="postgres", quiet=True)
            yield PostgresBuild(
                warehouse=warehouse,
                paths=paths,
                load_report=load_report,
                load_log=load_log,
                build=build,
                passwords=passwords,
                pii_hash_key=pii_hash_key,
            )
    finally:
        drop_roles(url, role_names(prefix))
