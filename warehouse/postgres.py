"""PostgreSQL as the production warehouse: databases, least-privilege roles and the PII hash key.

Three roles share the work, each allowed only what its step needs:

- ``loader`` (dlt) owns the ``raw_*`` schemas and writes nothing else;
- ``transformer`` (dbt) reads raw and owns staging, ods, snapshots, reference, the marts and audit;
- ``reporter`` reads the marts, which dbt's ``grants`` config re-grants after every rebuild.

Roles are cluster-wide, so their names carry a prefix (``WAREHOUSE_PG_ROLE_PREFIX``, empty by
default): test runs use a unique one and never meet each other's roles or a user's. The schemas
each role writes are created here, owned by that role; no role may create schemas, so the
loader cannot put data anywhere but ``raw_*``.

Everything here connects with an administrator's URL (``WAREHOUSE_PG_ADMIN_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``): creating roles, databases and the key table
needs one.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection
from psycopg2.extensions import encrypt_password

from warehouse.errors import WarehouseError

ADMIN_URL_ENV = "WAREHOUSE_PG_ADMIN_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROLE_PREFIX_ENV = "WAREHOUSE_PG_ROLE_PREFIX"
DATABASE_ENV = "WAREHOUSE_PG_DATABASE"
DEFAULT_DATABASE = "larkspur"
PII_KEY_ENV = "WAREHOUSE_PII_HASH_KEY"
PII_KEY_SCHEMA = "pii_keys"
PII_KEY_TABLE = "hash_key"

TRANSFORMED_SCHEMAS = ("staging", "ods", "snapshots", "reference", "audit")
MART_SCHEMAS = ("core", "finance", "marketing", "logistics")
# dlt refuses credentials without a password; a server that trusts the client ignores this one.
TRUST_AUTH_PASSWORD = "no-password-under-trust-auth"  # pragma: allowlist secret

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def raw_schemas() -> tuple[str, ...]:
    """Every schema the loader writes: ``raw_<source>`` and dlt's ``raw_<source>_staging``
    (where it merges) for each registered source, and the same for ``raw_meta``."""
    from loaders.registry import loader_datasets

    return tuple(
        schema
        for dataset in loader_datasets()
        for schema in (f"raw_{dataset}", f"raw_{dataset}_staging")
    )


def transformer_schemas() -> tuple[str, ...]:
    """Every schema dbt builds into (the project's custom schemas)."""
    return (*TRANSFORMED_SCHEMAS, *MART_SCHEMAS)


@dataclass(frozen=True)
class Roles:
    """The three role names of one warehouse installation."""

    loader: str
    transformer: str
    reporter: str

    def __iter__(self) -> Iterator[str]:
        return iter((self.loader, self.transformer, self.reporter))


def role_names(prefix: str | None = None) -> Roles:
    """The roles for ``prefix`` (default: ``WAREHOUSE_PG_ROLE_PREFIX``, else none)."""
    prefix = os.environ.get(ROLE_PREFIX_ENV, "") if prefix is None else prefix
    if prefix and not IDENTIFIER.match(prefix):
        raise WarehouseError(
            f"the role prefix {prefix!r} is not a plain PostgreSQL name",
            hint=f"set {ROLE_PREFIX_ENV} to lower-case letters, digits and underscores",
        )
    return Roles(f"{prefix}loader", f"{prefix}transformer", f"{prefix}reporter")


def role_password(role_kind: str) -> str | None:
    """The password for one kind of role (loader, transformer, reporter) from the environment."""
    return os.environ.get(f"WAREHOUSE_PG_{role_kind.upper()}_PASSWORD") or None


def database_name(database: str | None = None) -> str:
    """The warehouse database: ``database``, else ``WAREHOUSE_PG_DATABASE``, else larkspur."""
    return check_identifier(
        database or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE, "database"
    )


def reporter_url() -> str | None:
    """The reporter's connection URL, for notebooks and dashboards that read the marts.

    None when ``WAREHOUSE_PG_REPORTER_PASSWORD`` is unset: that password is what says a
    PostgreSQL warehouse is there to read (under trust authentication any value will do). The
    server is the one of :func:`admin_url`, the database :func:`database_name`, the role
    ``<WAREHOUSE_PG_ROLE_PREFIX>reporter``.
    """
    password = role_password("reporter")
    if password is None:
        return None
    warehouse = PostgresWarehouse(
        admin_url=admin_url(), database=database_name(), roles=role_names()
    )
    return warehouse.url(warehouse.roles.reporter, password)


def admin_url() -> str:
    """The administrator's connection URL: ``WAREHOUSE_PG_ADMIN_URL`` or the local default."""
    return os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL


def check_identifier(name: str, what: str) -> str:
    """Refuse names that would need quoting: they end up in schemas, roles and URLs."""
    if not IDENTIFIER.match(name) or len(name) > 63:
        raise WarehouseError(
            f"{name!r} is not a usable {what} name",
            hint="use at most 63 lower-case letters, digits and underscores",
        )
    return name


def server_address(connection_url: str) -> str:
    """host:port of a URL, for messages (never the credentials)."""
    parts = urlsplit(connection_url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


@contextmanager
def connect(connection_url: str, database: str | None = None) -> Iterator[PgConnection]:
    """An autocommit connection (to ``database`` instead of the URL's, if given), always closed."""
    options = {"dbname": database} if database else {}
    try:
        connection = psycopg2.connect(connection_url, connect_timeout=10, **options)
    except psycopg2.OperationalError as error:
        # libpq's message names host, port and user, never the password
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
        raise WarehouseError(
            f"cannot connect to PostgreSQL at {server_address(connection_url)}: {reason}",
            hint="check that the server runs and the user and password are right: "
            f"{ADMIN_URL_ENV} for the administrator, WAREHOUSE_PG_* for dbt",
        ) from error
    connection.autocommit = True
    try:
        yield connection
    finally:
        connection.close()


def database_exists(connection_url: str, name: str) -> bool:
    """Whether the server has a database called ``name``."""
    with connect(connection_url) as connection, connection.cursor() as cursor:
        cursor.execute("select 1 from pg_database where datname = %s", [name])
        return cursor.fetchone() is not None


def create_database(connection_url: str, name: str) -> None:
    """Create database ``name`` (an error if it exists: it may hold someone's data)."""
    check_identifier(name, "database")
    with (
        connect(connection_url) as connection,
        refused_as_warehouse_error(f"create the database {name}"),
        connection.cursor() as cursor,
    ):
        try:
            cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        except psycopg2.errors.DuplicateDatabase as error:
            raise WarehouseError(
                f"the database {name} already exists",
                hint="choose another name, or drop it first if nothing in it is needed",
            ) from error


def drop_database(connection_url: str, name: str) -> None:
    """Drop database ``name`` if it exists, ending its open sessions."""
    check_identifier(name, "database")
    with (
        connect(connection_url) as connection,
        refused_as_warehouse_error(f"drop the database {name}"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


@contextmanager
def throwaway_database(connection_url: str, prefix: str = "larkspur_tmp") -> Iterator[str]:
    """A new database with a unique name, dropped when the block ends, also on failure."""
    name = check_identifier(f"{prefix}_{uuid.uuid4().hex[:10]}", "database")
    create_database(connection_url, name)
    try:
        yield name
    finally:
        drop_database(connection_url, name)


@contextmanager
def refused_as_warehouse_error(step: str) -> Iterator[None]:
    """Turn PostgreSQL's refusal of an administrative step into one line and a hint."""
    try:
        yield
    except psycopg2.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise WarehouseError(
            f"PostgreSQL refused to {step}: {first_line}",
            hint=f"connect as a superuser ({ADMIN_URL_ENV}) or a role with CREATEROLE and "
            "CREATEDB that owns the warehouse database",
        ) from error


def execute_all(connection: PgConnection, statements: list[sql.Composable]) -> None:
    """Run statements in one transaction, so a failed setup leaves nothing half-granted."""
    connection.autocommit = False
    try:
        with refused_as_warehouse_error("set up the warehouse"), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        connection.commit()
    finally:
        # after a commit this is a no-op; after a failure it discards the half-done setup
        connection.rollback()
        connection.autocommit = True


def create_roles(connection: PgConnection, roles: Roles) -> None:
    """Create the roles that do not exist yet and (re)set the passwords the environment gives."""
    with refused_as_warehouse_error("create the roles"), connection.cursor() as cursor:
        for kind, role in zip(("loader", "transformer", "reporter"), roles, strict=True):
            cursor.execute("select 1 from pg_roles where rolname = %s", [role])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
            else:
                cursor.execute(sql.SQL("alter role {} login").format(sql.Identifier(role)))
            password = role_password(kind)
            if password:
                # a SCRAM verifier, so the password itself never travels or reaches a log
                verifier = encrypt_password(password, role, connection, "scram-sha-256")
                cursor.execute(
                    sql.SQL("alter role {} password {}").format(
                        sql.Identifier(role), sql.Literal(verifier)
                    )
                )


def grant_statements(database: str, roles: Roles) -> list[sql.Composable]:
    """The schemas and grants of one database, all idempotent."""
    loader, transformer, reporter = (sql.Identifier(role) for role in roles)
    statements: list[sql.Composable] = [
        sql.SQL("grant connect, temporary on database {} to {}, {}").format(
            sql.Identifier(database), loader, transformer
        ),
        sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), reporter),
    ]
    for name in raw_schemas():
        schema = sql.Identifier(name)
        statements += [
            sql.SQL("create schema if not exists {} authorization {}").format(schema, loader),
            sql.SQL("alter schema {} owner to {}").format(schema, loader),
        ]
        if not name.endswith("_staging"):
            statements += [
                sql.SQL("grant usage on schema {} to {}").format(schema, transformer),
                sql.SQL("grant select on all tables in schema {} to {}").format(
                    schema, transformer
                ),
                # dlt creates new tables as the loader: the transformer may read those too
                sql.SQL(
                    "alter default privileges for role {} in schema {} grant select on tables to {}"
                ).format(loader, schema, transformer),
            ]
    for name in transformer_schemas():
        schema = sql.Identifier(name)
        statements += [
            sql.SQL("create schema if not exists {} authorization {}").format(schema, transformer),
            sql.SQL("alter schema {} owner to {}").format(schema, transformer),
        ]
    # Table-level SELECT on the marts comes from dbt's grants config, re-applied on every build.
    statements += [
        sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(name), reporter)
        for name in MART_SCHEMAS
    ]
    return statements


def setup_roles(connection_url: str, database: str) -> None:
    """Create the loader, transformer and reporter roles and their schemas and grants.

    Idempotent: run it again after adding a source or to rotate passwords. Role names come from
    ``WAREHOUSE_PG_ROLE_PREFIX``; passwords from ``WAREHOUSE_PG_LOADER_PASSWORD``,
    ``WAREHOUSE_PG_TRANSFORMER_PASSWORD`` and ``WAREHOUSE_PG_REPORTER_PASSWORD`` when set (under
    trust authentication none is needed). ``connection_url`` is an administrator's.
    """
    check_identifier(database, "database")
    roles = role_names()
    with connect(connection_url) as connection:
        create_roles(connection, roles)
    with connect(connection_url, database) as connection:
        execute_all(connection, grant_statements(database, roles))


def drop_roles(connection_url: str, roles: Roles) -> None:
    """Drop the roles (after the databases they own objects in are gone)."""
    with connect(connection_url) as connection, connection.cursor() as cursor:
        for role in roles:
            try:
                cursor.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
            except psycopg2.errors.DependentObjectsStillExist as error:
                raise WarehouseError(
                    f"the role {role} still owns objects or holds privileges: "
                    f"{str(error).strip().splitlines()[0]}",
                    hint=f"run `drop owned by {role}` in each database it works in, then retry",
                ) from error


def install_pii_hash_key(
    connection_url: str, database: str, key: str | None = None, *, replace: bool = False
) -> None:
    """Store the key ``hash_pii()`` reads in ``pii_keys.hash_key``, for the transformer only.

    The key comes from ``key`` or ``WAREHOUSE_PII_HASH_KEY`` and travels as a query parameter, so
    it never appears in SQL text, dbt's compiled models or logs. A different key already in place
    is kept unless ``replace``: a new key changes every hash, and with them the customer keys of
    snapshots and incremental models (rebuild them with ``--full-refresh`` after replacing).
    """
    key = key or os.environ.get(PII_KEY_ENV)
    if not key:
        raise WarehouseError(
            "no key for hashing personal data",
            hint=f"set {PII_KEY_ENV} to a long random secret (for example "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) and keep it safe",
        )
    transformer = sql.Identifier(role_names().transformer)
    schema = sql.Identifier(PII_KEY_SCHEMA)
    table = sql.Identifier(PII_KEY_SCHEMA, PII_KEY_TABLE)
    with connect(connection_url, database) as connection:
        execute_all(
            connection,
            [
                sql.SQL("create schema if not exists {}").format(schema),
                sql.SQL("revoke all on schema {} from public").format(schema),
                sql.SQL(
                    "create table if not exists {} (hash_key text not null,"
                    " is_current boolean primary key default true check (is_current))"
                ).format(table),
                sql.SQL("revoke all on {} from public").format(table),
                sql.SQL("grant usage on schema {} to {}").format(schema, transformer),
                sql.SQL("grant select on {} to {}").format(table, transformer),
            ],
        )
        with refused_as_warehouse_error("store the PII hash key"), connection.cursor() as cursor:
            cursor.execute(sql.SQL("select hash_key from {}").format(table))
            row = cursor.fetchone()
            if row is not None and row[0] != key and not replace:
                raise WarehouseError(
                    f"database {database} already has a different PII hash key",
                    hint=f"set {PII_KEY_ENV} to the key in use, or replace it on purpose and "
                    "rebuild with `warehouse build --target postgres --full-refresh`",
                )
            cursor.execute(
                sql.SQL(
                    "insert into {} (hash_key) values (%s)"
                    " on conflict (is_current) do update set hash_key = excluded.hash_key"
                ).format(table),
                [key],
            )


@dataclass(frozen=True)
class PostgresWarehouse:
    """One warehouse database and the roles that load, transform and report on it."""

    admin_url: str
    database: str
    roles: Roles

    def url(self, role: str, password: str | None) -> str:
        """A connection URL for ``role`` on this warehouse's server and database."""
        parts = urlsplit(self.admin_url)
        host = parts.hostname or "127.0.0.1"
        return (
            f"postgresql://{quote(role, safe='')}:{quote(password or TRUST_AUTH_PASSWORD, safe='')}"
            f"@{host}:{parts.port or 5432}/{self.database}"
        )

    def loader_environment(self) -> dict[str, str]:
        """The variables that make ``loaders.load(destination="postgres")`` write as the loader."""
        return {
            "DESTINATION__POSTGRES__CREDENTIALS": self.url(
                self.roles.loader, role_password("loader")
            ),
        }

    def transformer_environment(self) -> dict[str, str]:
        """The variables that make ``dbt --target postgres`` run as the transformer."""
        parts = urlsplit(self.admin_url)
        return {
            "WAREHOUSE_PG_HOST": parts.hostname or "127.0.0.1",
            "WAREHOUSE_PG_PORT": str(parts.port or 5432),
            "WAREHOUSE_PG_USER": self.roles.transformer,
            "WAREHOUSE_PG_DATABASE": self.database,
            "DBT_ENV_SECRET_WAREHOUSE_PG_PASSWORD": role_password("transformer") or "",
            ROLE_PREFIX_ENV: self.roles.reporter.removesuffix("reporter"),
        }


def prepare_postgres_warehouse(
    database: str | None = None, connection_url: str | None = None
) -> PostgresWarehouse:
    """Create the warehouse database if missing, then its roles, schemas, grants and PII key.

    ``database`` defaults to ``WAREHOUSE_PG_DATABASE`` (else ``larkspur``), ``connection_url``
    to :func:`admin_url`. Safe to run before every load: every step is idempotent.
    """
    url = connection_url or admin_url()
    name = database_name(database)
    if not database_exists(url, name):
        create_database(url, name)
    setup_roles(url, name)
    install_pii_hash_key(url, name)
    return PostgresWarehouse(admin_url=url, database=name, roles=role_names())
