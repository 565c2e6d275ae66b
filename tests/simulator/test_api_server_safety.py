"""The simulated APIs resist a hostile client: the token is compared in constant time and
checked before any fault, and an out-of-range query parameter gets a 400 naming it instead of
a dropped connection."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator import simulate
from simulator.api_server import ApiServer, FaultConfig
from tests.simulator.test_api_server import get

TOKEN = "demo-token"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three simulated days: enough state for every endpoint to answer."""
    folder = tmp_path_factory.mktemp("three-days")
    simulate(folder, 3, scale=0.01)
    return folder


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[ApiServer]:
    with ApiServer(data_dir, token=TOKEN) as running:
        yield running


@pytest.fixture
def always_failing(data_dir: Path) -> Iterator[ApiServer]:
    """A server that injects a fault into every request it lets through."""
    with ApiServer(data_dir, token=TOKEN, faults=FaultConfig(rate=1.0, kinds=("500",))) as running:
        yield running


@pytest.mark.parametrize("token", [None, "wrong", "demo-token-but-longer", "d"])
def test_an_unauthenticated_request_gets_401_before_any_fault(
    always_failing: ApiServer, token: str | None
) -> None:
    status, body, headers = get(f"{always_failing.base_url}/payments/v1/charges", token=token)
    assert status == 401
    assert body == {"error": "missing or wrong bearer token"}
    assert headers["WWW-Authenticate"] == "Bearer"


def test_an_authenticated_request_still_gets_its_fault(always_failing: ApiServer) -> None:
    status, body, _ = get(f"{always_failing.base_url}/payments/v1/charges")
    assert (status, body) == (500, {"error": "internal server error"})


def test_the_token_is_compared_in_constant_time(
    server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[object, object]] = []
    compare_digest = hmac.compare_digest

    def recording_compare_digest(given: bytes, expected: bytes) -> bool:
        compared.append((given, expected))
        return compare_digest(given, expected)

    monkeypatch.setattr("simulator.api_server.hmac.compare_digest", recording_compare_digest)
    assert get(f"{server.base_url}/fx/v1/rates?start_date=2020-01-01&end_date=2020-01-02")[0] == (
        200
    )
    assert get(f"{server.base_url}/payments/v1/charges", token="wrong")[0] == 401
    assert compared == [
        (b"Bearer demo-token", b"Bearer demo-token"),
        (b"Bearer wrong", b"Bearer demo-token"),
    ]


def test_a_token_that_is_not_ascii_is_refused_not_dropped(server: ApiServer) -> None:
    # http.server decodes headers as latin-1; compare_digest refuses non-ASCII str
    status, body, _ = get(f"{server.base_url}/payments/v1/charges", token="d\xe9mo-token")
    assert (status, body) == (401, {"error": "missing or wrong bearer token"})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "/payments/v1/charges?updated_since=99999999999999999999",
            "updated_since must be between 0 and 9223372036854775807, not 99999999999999999999",
        ),
        (
            "/ads/v1/campaigns?page=99999999999999999999",
            "page must be between 1 and 9223372036854775, not 99999999999999999999",
        ),
        (
            # the offset (page - 1) * page_size would not fit SQLite's integers
            "/ads/v1/campaigns?page=9223372036854775807",
            "page must be between 1 and 9223372036854775, not 9223372036854775807",
        ),
        (
            "/ads/v1/campaigns/99999999999999999999/ad_groups",
            "no campaign with id 99999999999999999999",
        ),
        (
            "/ads/v1/campaigns?updated_since=0001-01-01T00:00:00%2B01:00",
            "updated_since is out of range: '0001-01-01T00:00:00+01:00' is not a UTC time "
            "between years 1 and 9999",
        ),
        (
            "/ads/v1/campaigns?updated_since=9999-12-31T23:59:59-01:00",
            "updated_since is out of range: '9999-12-31T23:59:59-01:00' is not a UTC time "
            "between years 1 and 9999",
        ),
    ],
)
def test_an_out_of_range_parameter_gets_400_with_the_reason(
    server: ApiServer, query: str, message: str
) -> None:
    status, body, headers = get(f"{server.base_url}{query}")
    expected_status = 404 if "ad_groups" in query else 400
    assert (status, body) == (expected_status, {"error": message})
    assert headers["Content-Type"] == "application/json"


def test_the_largest_accepted_values_still_answer(server: ApiServer) -> None:
    status, body, _ = get(
        f"{server.base_url}/payments/v1/charges?updated_since=9223372036854775807"
    )
    assert (status, body["data"], body["has_more"]) == (200, [], False)
    status, body, _ = get(
        f"{server.base_url}/ads/v1/campaigns?page=9223372036854775&page_size=1000"
    )
    assert (status, body["results"], body["page"]) == (200, [], 9223372036854775)
