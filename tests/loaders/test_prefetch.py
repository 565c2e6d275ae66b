"""The API sources fetch a list's next pages while dlt works on the current ones
(`loaders.rest.prefetched`): same pages, in order, errors where they happened, nothing left
running after a stop. dlt gets a checked list's pages in batches (`loaders.rest.in_batches`)
checked as one table, and a quarantined record still names the page it came from; each answer
is parsed once (`loaders.rest.parse_json_once`)."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import requests
from dlt.sources.helpers.rest_client.client import PageData

from loaders import load
from loaders.contracts import RecordContract
from loaders.rest import PageBatch, contract_check, in_batches, parse_json_once, prefetched
from tests.loaders.conftest import TOKEN, Warehouse, copy_sources

WAIT_SECONDS = 5


def test_the_next_page_is_fetched_while_the_current_one_is_worked_on() -> None:
    second_page_fetched = threading.Event()

    def pages() -> Iterator[int]:
        yield 1
        second_page_fetched.set()
        yield 2

    iterator = prefetched(pages())
    assert next(iterator) == 1
    # the caller has not asked for page 2 yet
    assert second_page_fetched.wait(WAIT_SECONDS)
    assert list(iterator) == [2]


def test_every_page_comes_once_and_in_order() -> None:
    assert list(prefetched(iter(range(25)))) == list(range(25))
    assert list(prefetched(iter([]))) == []


def test_an_error_is_raised_at_the_page_where_it_happened() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("the API went away")

    received = []
    with pytest.raises(ConnectionError, match="the API went away"):
        for page in prefetched(pages()):
            received.append(page)
    assert received == [1, 2]


def test_closing_stops_the_fetching_thread_and_closes_the_pages() -> None:
    fetched: list[int] = []
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            for number in range(1000):
                fetched.append(number)
                yield number
        finally:
            closed.set()

    iterator = prefetched(pages(), ahead=1)
    assert next(iterator) == 0
    iterator.close()
    assert closed.wait(WAIT_SECONDS)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and _fetching_threads():
        time.sleep(0.01)
    assert _fetching_threads() == []
    # page 0 handed on, one waiting, one more at most fetched before the stop was seen
    assert len(fetched) <= 3


def _fetching_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "prefetch-pages"]


def test_batches_hold_consecutive_pages_in_order() -> None:
    assert list(in_batches(iter(range(25)), 10)) == [
        PageBatch(tuple(range(10))),
        PageBatch(tuple(range(10, 20))),
        PageBatch(tuple(range(20, 25))),
    ]
    assert list(in_batches(iter([]), 10)) == []


def test_the_pages_before_a_failure_go_on_before_the_error() -> None:
    def pages() -> Iterator[int]:
        yield from range(13)
        raise ConnectionError("the API went away")

    received = []
    with pytest.raises(ConnectionError, match="the API went away"):
        for batch in in_batches(pages(), 10):
            received.append(batch)
    assert received == [PageBatch(tuple(range(10))), PageBatch((10, 11, 12))]


def _page(records: list[dict[str, object]], cursor: str) -> PageData[dict[str, object]]:
    response = requests.models.Response()
    response.status_code = 200
    response.url = f"http://127.0.0.1:8000/charges?limit=2&starting_after={cursor}"
    return PageData(records, request=None, response=response, paginator=None, auth=None)  # type: ignore[arg-type]


def test_a_batch_is_checked_as_one_table_and_each_rejected_record_names_its_page() -> None:
    contract = RecordContract(required=("id", "amount"), integers=("amount",))
    step = contract_check("charges", contract, "id", primary_key=["id"])
    batch = PageBatch(
        (
            _page([{"id": "ch_1", "amount": 100}, {"id": "ch_2", "amount": "twelve"}], "ch_0"),
            _page([{"id": "ch_3", "amount": 300}, {"id": "ch_4", "amount": None}], "ch_2"),
            _page([{"id": "ch_5", "amount": 500}], "ch_4"),
        )
    )
    clean, quarantined = step(batch)
    assert isinstance(clean, pa.Table)
    assert clean.select(["id", "amount"]).to_pylist() == [
        {"id": "ch_1", "amount": 100},
        {"id": "ch_3", "amount": 300},
        {"id": "ch_5", "amount": 500},
    ]
    rejected = [
        (row["reason"], row["source_location"].rsplit("=", 1)[1]) for row in quarantined.data
    ]
    assert rejected == [
        ("unparsable_number:amount", "ch_0"),
        ("null_required_field:amount", "ch_2"),
    ]


def test_an_answer_is_parsed_once_for_the_data_selector_and_the_paginator() -> None:
    response = requests.models.Response()
    response.status_code = 200
    response._content = b'{"data": [{"id": "ch_1"}], "next_cursor": "ch_1"}'
    parse_json_once(response)
    first = response.json()
    assert first == {"data": [{"id": "ch_1"}], "next_cursor": "ch_1"}
    assert response.json() is first


def test_a_quarantined_charge_names_the_page_it_came_from(
    simulated_dir: Path, api_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small pages: the quarantined charges are spread over many pages fetched ahead
    monkeypatch.setenv("SOURCES__PAYMENTS__PAGE_SIZE", "20")
    data_dir = copy_sources(simulated_dir, tmp_path)
    report = load(["payments"], data_dir=data_dir)
    assert report.ok
    quarantined = Warehouse(data_dir, report).query(
        "select raw_payload ->> 'id', source_location from raw_payments.quarantined_records "
        "where source_table = 'charges' order by 1"
    )
    assert len(quarantined) >= 2
    pages_seen = set()
    for charge_id, location in quarantined:
        method, url = location.split(" ", 1)
        assert method == "GET"
        page = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        page.raise_for_status()
        assert charge_id in [record.get("id") for record in page.json()["data"]], location
        pages_seen.add(url)
    assert len(pages_seen) >= 2, "the quarantined charges should span several pages"
