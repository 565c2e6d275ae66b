"""The API sources fetch a list's next page while dlt works on the current one
(`loaders.rest.prefetched`): same pages, in order, errors where they happened, nothing left
running after a stop, and a quarantined record still names the page it came from; each answer
is parsed once (`loaders.rest.parse_json_once`)."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from loaders import load
from loaders.rest import parse_json_once, prefetched
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


def test_each_page_is_handed_on_in_the_callers_thread() -> None:
    handed_on: list[tuple[int, str]] = []

    def remember(page: int) -> None:
        handed_on.append((page, threading.current_thread().name))

    consumed = []
    for page in prefetched(iter([1, 2, 3]), remember):
        # the page being worked on is the last one handed on, not the one fetched ahead
        assert handed_on[-1][0] == page
        consumed.append(page)
    assert consumed == [1, 2, 3]
    assert {thread for _, thread in handed_on} == {threading.current_thread().name}


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
