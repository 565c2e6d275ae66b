"""The payments, ads and fx APIs served from the simulated state: auth, pagination, filters,
errors and injected faults."""

from __future__ import annotations

import http.client
import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from simulator.api_server import ApiServer, FaultConfig

TOKEN = "demo-token"


def get(url: str, token: str | None = TOKEN) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of a GET."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, json.load(r), dict(r.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error), dict(error.headers)


@pytest.fixture(scope="module")
def server(sixty_days) -> Iterator[ApiServer]:
    with ApiServer(sixty_days.sources.parent) as running:
        yield running


@pytest.fixture(scope="module")
def state(sixty_days) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(sixty_days.sources / "api.sqlite")
    yield connection
    connection.close()


def walk_cursor(base: str, path: str, query: str = "") -> list[dict]:
    records, cursor = [], None
    while True:
        after = f"&starting_after={cursor}" if cursor else ""
        status, body, _ = get(f"{base}{path}?limit=37{query}{after}")
        assert status == 200
        records.extend(body["data"])
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return records
        cursor = body["next_cursor"]
        assert cursor == body["data"][-1]["id"]


def walk_pages(base: str, path: str, query: str = "") -> list[dict]:
    results, page = [], 1
    while True:
        status, body, _ = get(f"{base}{path}?page={page}&page_size=7{query}")
        assert status == 200 and body["page"] == page and body["page_size"] == 7
        results.extend(body["results"])
        if page >= body["total_pages"]:
            assert len(results) == body["total_results"]
            return results
        page += 1


def test_health_needs_no_token_and_data_does(server: ApiServer) -> None:
    assert get(f"{server.base_url}/health", token=None)[:2] == (200, {"status": "ok"})
    status, body, headers = get(f"{server.base_url}/payments/v1/charges", token="wrong")
    assert status == 401 and "token" in body["error"] and headers["WWW-Authenticate"] == "Bearer"
    assert get(f"{server.base_url}/payments/v1/charges", token=None)[0] == 401
    assert server.base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/payments/v1/charges?limit=0", "limit must be between 1 and 1000"),
        ("/payments/v1/charges?limit=x", "limit must be an integer"),
        ("/payments/v1/refunds?starting_after=re_nope", "no refund with id re_nope"),
        ("/ads/v1/campaigns?updated_since=yesterday", "ISO 8601"),
        ("/ads/v1/reports/daily?start_date=2025-01-01", "end_date is required"),
        ("/fx/v1/rates?start_date=2024-01-01&end_date=2025-03-01", "at most 366 days"),
        ("/fx/v1/rates?start_date=2025-02-01&end_date=2025-01-01", "before start_date"),
    ],
)
def test_bad_parameters_are_400_with_a_message(server: ApiServer, path: str, fragment: str) -> None:
    status, body, _ = get(server.base_url + path)
    assert status == 400 and fragment in body["error"]


def test_unknown_paths_are_404(server: ApiServer) -> None:
    assert get(f"{server.base_url}/payments/v2/charges")[0] == 404
    assert get(f"{server.base_url}/ads/v1/campaigns/99999/ad_groups")[0] == 404


@pytest.mark.parametrize("table", ["charges", "refunds", "payouts"])
def test_cursor_pagination_walks_every_record_once(
    server: ApiServer, state: sqlite3.Connection, table: str
) -> None:
    records = walk_cursor(server.base_url, f"/payments/v1/{table}")
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids))
    assert set(ids) == {row[0] for row in state.execute(f"select id from {table}")}
    keys = [(record["updated"], record["id"]) for record in records]
    assert keys == sorted(keys)


def test_updated_since_is_inclusive(server: ApiServer, state: sqlite3.Connection) -> None:
    since = state.execute("select updated from charges order by updated limit 1 offset 1000")
    since = since.fetchone()[0]
    records = walk_cursor(server.base_url, "/payments/v1/charges", f"&updated_since={since}")
    expected = state.execute("select count(*) from charges where updated >= ?", (since,))
    assert len(records) == expected.fetchone()[0]
    assert min(record["updated"] for record in records) == since
    assert {"id", "order_number", "amount", "currency", "status", "created"} <= set(records[0])


def test_page_pagination_walks_campaigns_groups_and_reports(
    server: ApiServer, state: sqlite3.Connection
) -> None:
    campaigns = walk_pages(server.base_url, "/ads/v1/campaigns")
    assert [c["campaign_id"] for c in campaigns] == [
        row[0] for row in state.execute("select campaign_id from campaigns order by 1")
    ]
    groups = walk_pages(server.base_url, "/ads/v1/campaigns/1/ad_groups")
    assert groups and {group["campaign_id"] for group in groups} == {1}
    reports = walk_pages(
        server.base_url, "/ads/v1/reports/daily", "&start_date=2025-02-01&end_date=2025-02-28"
    )
    keys = {(report["report_date"], report["campaign_id"]) for report in reports}
    assert len(keys) == len(reports)
    assert {report["report_date"][:7] for report in reports} == {"2025-02"}
    expected = state.execute(
        "select count(*), sum(clicks) from ad_daily_reports where report_date like '2025-02%'"
    ).fetchone()
    assert (len(reports), sum(report["clicks"] for report in reports)) == expected


def test_campaigns_filter_on_updated_since_in_any_offset(
    server: ApiServer, state: sqlite3.Connection
) -> None:
    expected = state.execute(
        "select count(*) from campaigns where updated_at >= '2025-02-01T00:00:00Z'"
    ).fetchone()[0]
    # 01:00 at +01:00 is midnight UTC; `%2B` is the URL-encoded `+`.
    for since in ("2025-02-01T00:00:00Z", "2025-02-01T01:00:00%2B01:00"):
        results = walk_pages(server.base_url, "/ads/v1/campaigns", f"&updated_since={since}")
        assert len(results) == expected
    assert 0 < expected < len(walk_pages(server.base_url, "/ads/v1/campaigns"))


def test_fx_rates_for_a_range(server: ApiServer) -> None:
    status, body, _ = get(
        f"{server.base_url}/fx/v1/rates?start_date=2025-01-01&end_date=2025-01-07"
    )
    assert status == 200 and body["base"] == "EUR"
    dates = sorted({rate["rate_date"] for rate in body["rates"]})
    assert dates == ["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07"]
    assert {rate["currency"] for rate in body["rates"]} == {"GBP", "USD"}


@pytest.mark.parametrize("kind", ["429", "503", "500"])
def test_error_faults_answer_with_their_status(sixty_days, kind: str) -> None:
    faults = FaultConfig(rate=1.0, kinds=(kind,), retry_after_seconds=3)
    with ApiServer(sixty_days.sources.parent, faults=faults) as faulty:
        status, body, headers = get(f"{faulty.base_url}/fx/v1/rates")
        assert status == int(kind) and body["error"]
        if kind != "500":
            assert headers["Retry-After"] == "3"
        assert get(f"{faulty.base_url}/health")[0] == 200


def test_drop_fault_closes_the_connection(sixty_days) -> None:
    faults = FaultConfig(rate=1.0, kinds=("drop",))
    with (
        ApiServer(sixty_days.sources.parent, faults=faults) as dropping,
        pytest.raises((urllib.error.URLError, http.client.RemoteDisconnected, OSError)),
    ):
        get(f"{dropping.base_url}/payments/v1/charges")


def test_slow_fault_answers_late_but_correctly(sixty_days, server: ApiServer) -> None:
    faults = FaultConfig(rate=1.0, kinds=("slow",), slow_seconds=0.3)
    with ApiServer(sixty_days.sources.parent, faults=faults) as slow:
        started = time.monotonic()
        answer = get(f"{slow.base_url}/payments/v1/refunds?limit=5")
        assert time.monotonic() - started >= 0.3
    assert answer[:2] == get(f"{server.base_url}/payments/v1/refunds?limit=5")[:2]


def test_retrying_through_faults_gets_the_same_data(sixty_days, server: ApiServer) -> None:
    faults = FaultConfig(rate=0.4, seed=3, slow_seconds=0.05)
    kinds_seen: set[str] = set()
    with ApiServer(sixty_days.sources.parent, faults=faults) as flaky:
        records, cursor = [], None
        while True:
            url = f"{flaky.base_url}/payments/v1/refunds?limit=2"
            url += f"&starting_after={cursor}" if cursor else ""
            for _ in range(20):
                try:
                    status, body, _ = get(url)
                except (urllib.error.URLError, http.client.RemoteDisconnected, OSError):
                    kinds_seen.add("drop")
                    continue
                if status == 200:
                    break
                kinds_seen.add(str(status))
            records.extend(body["data"])
            if not body["has_more"]:
                break
            cursor = body["next_cursor"]
    assert records == walk_cursor(server.base_url, "/payments/v1/refunds")
    assert {"429", "503", "500", "drop"} <= kinds_seen
    assert [faults.fault_for(n) for n in range(1, 50)] == [
        FaultConfig(rate=0.4, seed=3).fault_for(n) for n in range(1, 50)
    ]


def test_port_in_use_is_a_clear_error(server: ApiServer, sixty_days) -> None:
    from simulator import SimulatorError

    port = int(server.base_url.rsplit(":", 1)[1])
    with pytest.raises(SimulatorError, match=f"cannot listen on 127.0.0.1:{port}"):
        ApiServer(sixty_days.sources.parent, port=port)
