"""Shared pieces of the REST API sources (payments, ads, fx) built on dlt's `rest_api` source.

- `retrying_session()`: dlt's `rest_api` builds its HTTP client with fixed retry defaults, so the
  sources hand it a session built from dlt's runtime request settings instead
  (`RUNTIME__REQUEST_MAX_ATTEMPTS`, `RUNTIME__REQUEST_BACKOFF_FACTOR`,
  `RUNTIME__REQUEST_MAX_RETRY_DELAY`, `RUNTIME__REQUEST_TIMEOUT` or the `[runtime]` section of
  `.dlt/config.toml`). 429 and 5xx responses, timeouts and dropped connections are retried with
  exponential backoff capped at the maximum delay; a `Retry-After` header sets the wait.
- `bearer_auth()`: the `rest_api` auth for a token from configuration, stripped of the
  whitespace a secrets file or `echo` leaves around it (requests refuses a header with a newline).
- `page_location()` names the endpoint and page a page came from, so that a quarantined
  record says where it was read.
- `prefetched()` fetches a list endpoint's next pages in a thread while dlt checks and writes
  the current ones: the API's answer time overlaps the client's own work instead of adding to
  it. `in_batches()` hands a checked list's pages to dlt `PAGES_PER_ITEM` at a time.
- `parse_json_once()` is a response action that parses an answer's JSON once for both of
  `rest_api`'s readers of it, the data selector and the paginator.
- `contract_check()` is a resource step checking each page against a `RecordContract` with the
  file sources' checker, sending the records that break it to `quarantined_records`.
- `date_windows()` is a parent resource for endpoints queried by date range: windows of at most
  `max_days` from the last loaded date less a lookback up to today.
- `checked_rest_api_resources()` puts these together: a source gives its endpoints, paginator,
  contracts and column hints, and gets resources that retry, authenticate, check each page and
  quarantine what breaks the contract. `updated_since()` is the incremental query parameter of
  the APIs that list records changed since a time.
"""

import contextlib
import functools
import json
import queue
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import dlt
import pyarrow as pa
from dlt.common.configuration.resolve import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.common.normalizers.utils import generate_dlt_ids
from dlt.common.schema.typing import TColumnSchema
from dlt.common.schema.utils import get_columns_names_with_prop
from dlt.extract import DltResource
from dlt.sources.helpers.requests import Client
from dlt.sources.rest_api import rest_api_resources
from requests import Response, Session

from loaders.contracts import RecordContract
from loaders.dispositions import LoadedRows, merge_after_first_load
from loaders.quarantine import (
    QUARANTINE_ID,
    QUARANTINE_TABLE,
    quarantine_records,
    quarantine_table_resource,
    register_quarantine_table,
)
from loaders.secrets import mask_secrets
from loaders.validation import (
    API_DECIMAL_TYPE,
    check_page,
    page_table,
    reject_reasons,
    strip_typed_text,
)


def retrying_session() -> Session:
    """A requests session retrying as dlt's runtime request settings say."""
    runtime = resolve_configuration(RuntimeConfiguration(), sections=("runtime",))
    client = Client(
        raise_for_status=False,
        request_timeout=runtime.request_timeout,
        request_max_attempts=runtime.request_max_attempts,
        request_backoff_factor=runtime.request_backoff_factor,
        request_max_retry_delay=runtime.request_max_retry_delay,
        respect_retry_after_header=True,
    )
    return client.session


def bearer_auth(token: str) -> dict[str, str]:
    """`rest_api`'s bearer auth with `token` as configured, less the whitespace around it."""
    return {"type": "bearer", "token": token.strip()}


def page_location(page: Any, resource_name: str) -> str:
    """The endpoint and page `page` came from (`rest_api`'s pages carry their answer), or
    `resource_name` for an item that is not a page. No password of the base URL: the location
    is stored with quarantined records."""
    response: Response | None = getattr(page, "response", None)
    if response is None:
        return resource_name
    return mask_secrets(f"GET {response.url}")


def contract_check(
    resource_name: str,
    contract: RecordContract,
    key_field: str | None,
    *,
    as_arrow: bool = True,
    primary_key: Sequence[str] = (),
) -> Callable[[Any], Iterator[Any]]:
    """A resource step checking each page, or each `PageBatch` of pages, as one table: the
    clean records go on as one item, the others to `quarantined_records` with their page.

    Add it with `resource.add_step()` (a `yield_map` would hand it one record at a time). The
    checks are the file sources' (`check_page`, `reject_reasons`). With `as_arrow`, the clean
    records go on as one Arrow table with their typed columns typed as a file's are (dlt writes
    it as a whole instead of normalizing each row) and a `_dlt_id` per row, as dlt gives rows;
    a page that cannot be one table (see `page_table`) and every page without `as_arrow` go on
    as records, whose text in a typed column loses the whitespace around it (blank text is null)
    and which dlt coerces to the hinted types. A quarantined record is keyed by its
    `key_field`, or by its whole payload when the field is None or missing; `primary_key`
    columns are not null in the Arrow table.
    """

    def rejected_record(
        reason: str, record: Mapping[str, Any], location: str
    ) -> tuple[str, str, Any, str]:
        key = record.get(key_field) if key_field else None
        if key is None:
            key = json.dumps(record, sort_keys=True, default=str)
        return reason, str(key), record, location

    def check(item: Any) -> Iterator[Any]:
        pages = item.pages if isinstance(item, PageBatch) else [item]
        records: list[Mapping[str, Any]] = []
        locations: list[str] = []
        for page in pages:
            page_records = page if isinstance(page, list) else [page]
            records.extend(page_records)
            locations.extend([page_location(page, resource_name)] * len(page_records))
        if not records:
            return
        table = page_table(records, contract) if as_arrow else None
        if table is not None:
            clean_table, reasons = check_page(table, contract, primary_key)
            if clean_table.num_rows:
                ids = pa.array(generate_dlt_ids(clean_table.num_rows), pa.string())
                yield clean_table.append_column(_DLT_ID_FIELD, ids)
        else:
            reasons = reject_reasons(records, contract)
            clean = [
                strip_typed_text(record, contract)
                for record, reason in zip(records, reasons, strict=True)
                if reason is None
            ]
            if clean:
                yield clean
        rejected = [
            rejected_record(reason, record, location)
            for record, reason, location in zip(records, reasons, locations, strict=True)
            if reason is not None
        ]
        if rejected:
            yield quarantine_records(resource_name, rejected)

    return check


_DLT_ID_FIELD = pa.field("_dlt_id", pa.string(), nullable=False)

_Page = TypeVar("_Page")

# How often a waiting producer or consumer looks whether the other side has stopped.
_PREFETCH_POLL_SECONDS = 0.1


def prefetched(pages: Iterator[_Page], ahead: int = 1) -> Iterator[_Page]:
    """`pages`, each next one fetched in a thread while the caller works on the current one.

    The first page is fetched in the caller's thread: `rest_api` reads the resource's
    incremental state there, which dlt keeps in the caller's context. Up to `ahead` pages wait
    fetched; an error of the iterator is raised in the caller's thread at the page where it
    happened. Closing the result (dlt does when the run stops or fails) stops the fetching
    thread before its next request; a request under way finishes in the background (it is a
    daemon thread, which cannot outlive the process).
    """
    try:
        first = next(pages)
    except StopIteration:
        return
    waiting: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=ahead)
    stopped = threading.Event()

    def hand_over(kind: str, value: Any) -> bool:
        while not stopped.is_set():
            try:
                waiting.put((kind, value), timeout=_PREFETCH_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in pages:
                if not hand_over("page", page):
                    return
            hand_over("end", None)
        except BaseException as error:  # re-raised in the caller's thread
            hand_over("error", error)
        finally:
            # closed here: a generator cannot be closed from another thread while it runs
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    fetcher = threading.Thread(target=fetch, name="prefetch-pages", daemon=True)
    fetcher.start()
    try:
        yield first
        while True:
            kind, value = waiting.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stopped.set()


@dataclass(frozen=True)
class PageBatch:
    """Consecutive pages of one resource handed to dlt as one item (`in_batches`), which
    `contract_check` makes one table of."""

    pages: tuple[Any, ...]


PAGES_PER_ITEM = 10
"""Pages of a checked list that dlt gets as one item. Each item costs dlt's extract its own
schema and incremental work and `contract_check` one DuckDB query, about 30 ms together: a third
of the client's time per 1,000-record payments page when every page was an item."""


def in_batches(pages: Iterator[_Page], size: int) -> Iterator[PageBatch]:
    """`pages` as `PageBatch`es of `size` pages (the last may hold fewer). When `pages` fails,
    the pages fetched before the failure go on first, then the error is raised."""
    batch: list[_Page] = []
    try:
        for page in pages:
            batch.append(page)
            if len(batch) == size:
                yield PageBatch(tuple(batch))
                batch = []
    except Exception:
        if batch:
            yield PageBatch(tuple(batch))
        raise
    if batch:
        yield PageBatch(tuple(batch))


def prefetch_pages(resource: DltResource, *, batched: bool) -> None:
    """Fetch `resource`'s next pages while dlt checks and writes the current ones
    (`prefetched`); with `batched`, dlt gets them `PAGES_PER_ITEM` at a time (`in_batches`),
    for a resource whose first step is a `contract_check`, which takes a `PageBatch`.

    For a `rest_api` list resource (not a child: dlt calls a child per parent record). dlt
    offers no public way to wrap a resource's generator; this replaces the pipe's head as
    `DltResource.parallelize()` does. `parallelize` is not enough: it moves a resource's
    fetching off the main thread but still asks for page N+1 only after page N went through
    the resource's steps.
    """
    paginate = resource._pipe.gen  # private: see the docstring

    def paginate_ahead() -> Iterator[Any]:
        # a batch's worth of pages is fetched while dlt works on the last batch
        ahead = prefetched(paginate(), ahead=PAGES_PER_ITEM if batched else 1)
        if not batched:
            yield from ahead
            return
        with contextlib.closing(ahead):
            yield from in_batches(ahead, PAGES_PER_ITEM)

    resource._pipe.replace_gen(paginate_ahead)


def parent_pages_without_quarantine(item: Any) -> Iterator[list[Any]]:
    """A child resource's first step: clean parent records, as the pages the child expects.

    A parent checked by `contract_check` sends its quarantined rows down the same pipe as its
    clean pages; `rest_api` children iterate over pages of parent records and
    would request sub-resources for the quarantined rows.
    """
    records = item if isinstance(item, list) else [item]
    clean = [record for record in records if QUARANTINE_ID not in record]
    if clean:
        yield clean


def date_windows(
    name: str, *, initial_date: date, lookback_days: int, max_days: int
) -> DltResource:
    """Parent resource yielding `{"start_date", "end_date"}` windows to request (not loaded).

    The windows start `lookback_days` before the last date `track_last_date(name, ...)`
    recorded (or at `initial_date`) and end today.
    """

    @dlt.resource(name=name, selected=False)
    def windows() -> Iterator[list[dict[str, str]]]:
        last_dates: dict[str, str] = dlt.current.source_state().get("last_dates", {})
        start = initial_date
        if name in last_dates:
            start = max(
                initial_date, date.fromisoformat(last_dates[name]) - timedelta(lookback_days)
            )
        end = max(datetime.now(UTC).date(), start)
        while start <= end:
            window_end = min(end, start + timedelta(days=max_days - 1))
            # rest_api children iterate over pages: each window goes out as a page of one
            yield [{"start_date": start.isoformat(), "end_date": window_end.isoformat()}]
            start = window_end + timedelta(days=1)

    return windows()


def track_last_date(name: str, date_field: str) -> Callable[[Any], Any]:
    """A map step recording the latest `date_field` seen, where `date_windows(name)` resumes.

    A value that is not an ISO date is left to the contract check (and never moves the
    windows).
    """

    def track(record: Any) -> Any:
        if isinstance(record, Mapping):
            try:
                seen = date.fromisoformat(str(record.get(date_field)))
            except ValueError:
                return record
            last_dates = dlt.current.source_state().setdefault("last_dates", {})
            if seen.isoformat() > last_dates.get(name, ""):
                last_dates[name] = seen.isoformat()
        return record

    return track


def date_windowed(
    resource: dict[str, Any],
    *,
    windows_name: str,
    date_field: str,
    initial_date: date,
    lookback_days: int,
    max_days: int,
) -> list[Any]:
    """A `rest_api` resource config requested by date range, with the windows driving it.

    Args:
        resource: The resource config; its endpoint gets the `start_date` and `end_date`
            parameters of each window.
        windows_name: The name of the windows resource, under which the source state keeps
            the last loaded date.
        date_field: The records' date; the latest one loaded is where the next run resumes.
        initial_date, lookback_days, max_days: As for `date_windows`.

    Returns:
        The windows resource (not loaded) and the resource config, for `rest_api`'s resources.
    """
    endpoint = resource["endpoint"]
    params = {
        **endpoint.get("params", {}),
        "start_date": f"{{resources.{windows_name}.start_date}}",
        "end_date": f"{{resources.{windows_name}.end_date}}",
    }
    steps = [
        *resource.get("processing_steps", []),
        {"map": track_last_date(windows_name, date_field)},
    ]
    windows = date_windows(
        windows_name, initial_date=initial_date, lookback_days=lookback_days, max_days=max_days
    )
    return [
        windows,
        {**resource, "endpoint": {**endpoint, "params": params}, "processing_steps": steps},
    ]


def declared_columns(
    column_hints: Mapping[str, Mapping[str, Any]], primary_key: Sequence[str]
) -> dict[str, TColumnSchema]:
    """`column_hints` complete, as an Arrow page of `check_page` declares the same columns:
    nullable but for `primary_key`, a decimal with `API_DECIMAL_TYPE`'s precision and scale.

    dlt's `freeze` data type contract compares every one of these properties with the stored
    column, so the row and Arrow paths must declare them alike.
    """
    columns: dict[str, TColumnSchema] = {}
    for name, hints in column_hints.items():
        column: dict[str, Any] = {"name": name, **hints, "nullable": name not in primary_key}
        if column.get("data_type") == "decimal":
            column["precision"] = API_DECIMAL_TYPE.precision
            column["scale"] = API_DECIMAL_TYPE.scale
        columns[name] = column  # type: ignore[assignment]
    return columns


def with_column_hints(
    resources: list[DltResource],
    column_hints: Mapping[str, Mapping[str, Any]],
    loaded_rows: LoadedRows | None = None,
) -> list[DltResource]:
    """Register the quarantine table on every resource, then declare `column_hints` per
    resource (`declared_columns`), on the resource and in the source's schema.

    Call it inside a `@dlt.source` function. The order matters: see `register_quarantine_table`.
    The returned list also holds the resource that creates the (possibly empty) quarantine
    table. The quarantine table is appended on its first load (`merge_after_first_load` with
    `loaded_rows`), merged after.

    In the source's schema the declaration reaches a warehouse loaded before it: dlt merges a
    source's schema into the stored one before extracting, without the contract check, so
    columns stored with a data type alone (by the row-by-row loader before issue #13) gain the
    same `nullable`, precision and scale, which their tables already have (dlt's defaults), and
    the first Arrow page then finds no type change to refuse.
    """
    disposition = merge_after_first_load(QUARANTINE_TABLE, loaded_rows)
    source_schema = dlt.current.source_schema()
    for resource in resources:
        register_quarantine_table(resource, disposition)
        if resource.name in column_hints:
            primary_key = get_columns_names_with_prop(
                resource.compute_table_schema(), "primary_key", include_incomplete=True
            )
            columns = declared_columns(column_hints[resource.name], primary_key)
            resource.apply_hints(columns=columns)
            source_schema.update_table({"name": resource.name, "columns": columns})
    return [*resources, quarantine_table_resource(write_disposition=disposition)]


def updated_since(cursor_path: str, initial_value: Any, lag: float) -> dict[str, Any]:
    """`rest_api`'s incremental query parameter: records whose `cursor_path` is at least the
    highest value loaded so far less `lag` (or `initial_value` on the first run)."""
    return {
        "type": "incremental",
        "cursor_path": cursor_path,
        "initial_value": initial_value,
        "lag": lag,
        # quarantined records (no cursor) pass; clean ones always have one
        "on_cursor_value_missing": "include",
    }


def checked_rest_api_resources(
    *,
    base_url: str,
    token: str,
    paginator: Any,
    resources: list[Any],
    contracts: Mapping[str, RecordContract],
    column_hints: Mapping[str, Mapping[str, Any]],
    resource_defaults: Mapping[str, Any] | None = None,
    loaded_rows: LoadedRows | None = None,
) -> list[DltResource]:
    """The resources of a REST API source, checked against their contracts.

    Args:
        base_url: The API's root URL; endpoint paths are relative to it.
        token: The bearer token (see `bearer_auth`).
        paginator: The API's `rest_api` paginator (a name or a paginator config).
        resources: `rest_api` resource configs (dicts) and plain resources such as
            `date_windows()`. Every dict endpoint records its page URLs for the quarantine.
        contracts: The contract of each checked resource. A quarantined record is keyed by its
            resource's primary key when it is one field, by its whole payload otherwise.
        column_hints: dlt column hints per resource.
        resource_defaults: `rest_api` defaults for every resource config, over
            `write_disposition="merge"`.
        loaded_rows: The rows a table holds in the destination now (None before its first
            load): a merged table the destination holds none of is appended instead
            (`merge_after_first_load`). Without it every merged table merges.

    Returns:
        The resources, each loading with retries (`retrying_session`), its clean records merged
        (appended on the table's first load) and the others in `quarantined_records`, plus
        the resource creating that table. A child
        of a checked resource is requested for its parent's clean records only.
    """
    defaults: dict[str, Any] = {"write_disposition": "merge", **(resource_defaults or {})}
    configs = [
        _with_response_hooks(resource) if isinstance(resource, dict) else resource
        for resource in resources
    ]
    api_resources = rest_api_resources(
        {
            "client": {
                "base_url": base_url,
                "auth": bearer_auth(token),
                "session": retrying_session(),
                "paginator": paginator,
            },
            "resource_defaults": defaults,  # type: ignore[typeddict-item]
            "resources": configs,
        }
    )
    dict_configs = {config["name"]: config for config in configs if isinstance(config, dict)}
    parents = {_parent_name(config) for config in dict_configs.values()}
    for resource in api_resources:
        config = dict_configs.get(resource.name, {})
        if config and not _parent_name(config):
            prefetch_pages(resource, batched=resource.name in contracts)
        if resource.name in contracts:
            primary_key = config.get("primary_key", defaults.get("primary_key"))
            key_field = primary_key if isinstance(primary_key, str) else None
            contract = contracts[resource.name]
            # after the processing steps: a check sees a whole page (see contract_check)
            resource.add_step(
                contract_check(
                    resource.name,
                    contract,
                    key_field,
                    as_arrow=_pages_as_arrow(config, contract, is_parent=resource.name in parents),
                    primary_key=[primary_key]
                    if isinstance(primary_key, str)
                    else primary_key or [],
                )
            )
        if resource.write_disposition == "merge":
            resource.apply_hints(
                write_disposition=merge_after_first_load(resource.name, loaded_rows)
            )
        if _parent_name(config) in contracts:
            # a child is requested per parent row: never for a quarantined one
            resource.add_yield_map(parent_pages_without_quarantine, insert_at=0)
    return with_column_hints(api_resources, column_hints, loaded_rows)


def _pages_as_arrow(
    config: Mapping[str, Any], contract: RecordContract, *, is_parent: bool
) -> bool:
    """Whether a resource's clean pages go on as Arrow tables (see `contract_check`).

    Not for a parent: `rest_api` requests its children per record of a page of records. Not
    when the incremental cursor is a checked timestamp, date or fractional number: the check
    types it, while dlt's incremental step compares it with the last value it stored, the text
    or JSON number the API sent (an Arrow table cannot compare a timestamp with text).
    """
    if is_parent:
        return False
    params = config.get("endpoint", {}).get("params", {})
    cursors = [
        value["cursor_path"]
        for value in params.values()
        if isinstance(value, Mapping) and value.get("type") == "incremental"
    ]
    typed = {*contract.timestamps, *contract.dates, *contract.decimals, *contract.floats}
    return not typed.intersection(cursors)


def parse_json_once(response: Response, *args: Any, **kwargs: Any) -> None:
    """A response action making `response.json()` parse the body once, however often it is
    called: `rest_api`'s data selector and its paginator each call it on every page."""
    response.json = functools.cache(response.json)  # type: ignore[method-assign]


def _with_response_hooks(config: dict[str, Any]) -> dict[str, Any]:
    """`config` whose answers are parsed once (`parse_json_once`)."""
    endpoint = dict(config["endpoint"])
    endpoint["response_actions"] = [*endpoint.get("response_actions", []), parse_json_once]
    return {**config, "endpoint": endpoint}


_PARENT_PLACEHOLDER = re.compile(r"\{resources\.(\w+)\.")


def _parent_name(config: Mapping[str, Any]) -> str | None:
    """The resource a `rest_api` child config reads its parameters from (`{resources.<name>.…}`
    in its path or parameters), or None."""
    endpoint = config.get("endpoint", {})
    placeholders = json.dumps([endpoint.get("path"), endpoint.get("params")], default=str)
    match = _PARENT_PLACEHOLDER.search(placeholders)
    return match.group(1) if match else None
